package dev.kiln.nn.io;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module's state dict (parameters and buffers under their dotted paths) saved to and loaded
 * from a safetensors file, so checkpoints interchange with PyTorch's
 * {@code safetensors.torch.save_file(model.state_dict(), path)}.
 *
 * <p>Loading compares the file's header with the module before it reads any data, converts
 * nothing (a tensor stored as F16 where the module holds F32 is reported as mismatched, not
 * widened; read it with {@link Safetensors#read} to convert it explicitly), and copies through
 * {@link Module#loadStateDict}, so a strict load that fails leaves the module unchanged.
 *
 * <pre>{@code
 * Checkpoint.save(model, Path.of("lenet5.safetensors"), Map.of("epoch", "10"));
 * LoadReport r = Checkpoint.load(model, Path.of("lenet5.safetensors"), true);
 * }</pre>
 */
public final class Checkpoint {
    private Checkpoint() {
    }

    /** Writes the module's state dict (parameters and buffers) atomically, with {@code metadata} (may be null). */
    public static void save(Module module, Path path, Map<String, String> metadata) {
        Safetensors.write(path, module.stateDict(), metadata);
    }

    /**
     * Loads the file's tensors into {@code module} by dotted path. With {@code strict}, any key
     * missing on either side or any shape/dtype mismatch throws an {@link IllegalArgumentException}
     * carrying the report and nothing is loaded; without it, the matching keys are loaded and the
     * rest reported.
     */
    public static LoadReport load(Module module, Path path, boolean strict) {
        try (SafetensorsFile file = Safetensors.read(path)) {
            Map<String, Tensor> own = module.stateDict();
            List<String> loadable = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                String key = e.getKey();
                Tensor mine = e.getValue();
                if (!file.contains(key)) {
                    missing.add(key);
                    continue;
                }
                TensorInfo stored = file.info(key);
                if (!Arrays.equals(stored.shape(), mine.shape()) || !stored.dtype().name().equals(mine.dtype().name())) {
                    mismatched.add(key + ": expected " + Arrays.toString(mine.shape()) + " " + mine.dtype() + ", got "
                            + Arrays.toString(stored.shape()) + " " + stored.dtype());
                } else {
                    loadable.add(key);
                }
            }
            List<String> unexpected = file.names().stream().filter(k -> !own.containsKey(k)).toList();
            LoadReport planned = new LoadReport(loadable, missing, unexpected, mismatched);
            if (strict && !planned.isComplete()) {
                throw new IllegalArgumentException("Checkpoint.load(" + path + "): " + planned + " (nothing was loaded)");
            }
            Map<String, Tensor> source = new LinkedHashMap<>();
            for (String key : loadable) {
                source.put(key, file.tensor(key));
            }
            LoadReport copied = module.loadStateDict(source, false);
            return new LoadReport(copied.loaded(), missing, unexpected, mismatched);
        }
    }
}
