package dev.kiln.nn;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A building block of a network, as {@code torch.nn.Module}: it owns parameters, buffers
 * (non-trained state such as batch-norm running statistics) and child modules, each under a name,
 * so that every tensor has a PyTorch-compatible dotted path ({@code features.0.weight}).
 *
 * <pre>{@code
 * final class TwoLayer extends Module {
 *     private final Linear fc1 = register("fc1", new Linear(784, 100, gen));
 *     private final Linear fc2 = register("fc2", new Linear(100, 10, gen));
 *     public Tensor forward(Tensor x) { return fc2.forward(fc1.forward(x).relu()); }
 * }
 * }</pre>
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Computes the module's output. */
    public abstract Tensor forward(Tensor x);

    private static void checkName(String kind, String name, Map<String, ?> a, Map<String, ?> b, Map<String, ?> c) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(kind + " name: expected a non-empty name without dots, got '" + name + "'");
        }
        if (a.containsKey(name) || b.containsKey(name) || c.containsKey(name)) {
            throw new IllegalArgumentException(kind + " name '" + name + "' is already used in this module");
        }
    }

    /** Registers a parameter made from {@code value} and returns it. */
    protected Parameter parameter(String name, Tensor value) {
        checkName("parameter", name, parameters, buffers, children);
        Parameter p = new Parameter(value);
        parameters.put(name, p);
        return p;
    }

    /** Registers a buffer (saved in the state dict, not trained) and returns it. */
    protected Tensor buffer(String name, Tensor value) {
        checkName("buffer", name, parameters, buffers, children);
        buffers.put(name, value);
        return value;
    }

    /** Replaces a registered buffer's tensor (same shape), e.g. after a device move. */
    protected void setBuffer(String name, Tensor value) {
        if (!buffers.containsKey(name)) {
            throw new IllegalArgumentException("setBuffer: no buffer named '" + name + "' in " + getClass().getSimpleName());
        }
        buffers.put(name, value);
    }

    /** The buffer registered under {@code name}. */
    protected Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) {
            throw new IllegalArgumentException("buffer: no buffer named '" + name + "' in " + getClass().getSimpleName());
        }
        return t;
    }

    /** Registers a child module and returns it. */
    protected <M extends Module> M register(String name, M child) {
        checkName("module", name, parameters, buffers, children);
        children.put(name, child);
        return child;
    }

    /** Direct children by name, in registration order. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter under its dotted path, depth first in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collectParameters(prefix + n + ".", out));
    }

    /** Every parameter, depth first. */
    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every buffer under its dotted path. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        buffers.forEach((n, b) -> out.put(prefix + n, b));
        children.forEach((n, c) -> c.collectBuffers(prefix + n + ".", out));
    }

    /** Every module with its dotted path ("" for this one), depth first. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String path, Map<String, Module> out) {
        out.put(path, this);
        children.forEach((n, c) -> c.collectModules(path.isEmpty() ? n : path + "." + n, out));
    }

    /** Parameters and buffers by dotted path (the tensors themselves, not copies). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p.get()));
        buffers.forEach((n, b) -> out.put(prefix + n, b));
        children.forEach((n, c) -> c.collectState(prefix + n + ".", out));
    }

    /**
     * Copies tensors from {@code source} into this module's parameters and buffers by dotted
     * path. Everything is checked before anything is written: with {@code strict}, any missing,
     * unexpected or mismatched key throws and the module is left unchanged; without it, the
     * matching keys are loaded and the rest reported.
     */
    public LoadReport loadStateDict(Map<String, Tensor> source, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> loaded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor src = source.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(src.shape(), e.getValue().shape()) || src.dtype() != e.getValue().dtype()) {
                mismatched.add(e.getKey() + ": expected " + Arrays.toString(e.getValue().shape()) + " " + e.getValue().dtype()
                        + ", got " + Arrays.toString(src.shape()) + " " + src.dtype());
            } else {
                loaded.add(e.getKey());
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : source.keySet()) {
            if (!own.containsKey(k)) {
                unexpected.add(k);
            }
        }
        LoadReport report = new LoadReport(loaded, missing, unexpected, mismatched);
        if (strict && !report.isComplete()) {
            throw new IllegalArgumentException("loadStateDict: " + report + " (nothing was loaded)");
        }
        try (var ng = dev.kiln.engine.Grad.disabled()) {
            for (String k : loaded) {
                own.get(k).copyFrom(source.get(k));
            }
        }
        return report;
    }

    /** Sets training mode on this module and all below it; returns this. */
    public Module train(boolean on) {
        apply(m -> m.training = on);
        return this;
    }

    /** Evaluation mode (dropout off, batch norm uses running statistics); returns this. */
    public Module eval() {
        return train(false);
    }

    /** True in training mode. */
    public boolean isTraining() {
        return training;
    }

    /** Calls {@code fn} on every module below and including this one, children first. */
    public void apply(Consumer<Module> fn) {
        for (Module c : children.values()) {
            c.apply(fn);
        }
        fn.accept(this);
    }

    /** Clears the gradients of all parameters. */
    public void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Total number of parameter elements (trainable only when {@code trainableOnly}). */
    public long parameterCount(boolean trainableOnly) {
        long n = 0;
        for (Parameter p : parameters()) {
            if (!trainableOnly || p.trainable()) {
                n += p.numel();
            }
        }
        return n;
    }

    /** Moves parameters and buffers to {@code device}; returns this. */
    public Module to(Device device) {
        apply(m -> {
            m.parameters.values().forEach(p -> p.to(device));
            m.buffers.replaceAll((n, b) -> b.to(device));
        });
        return this;
    }

    /**
     * Converts parameters and floating buffers to the floating {@code dtype}, as {@code model.double()}
     * (integer buffers such as batch-norm's {@code num_batches_tracked} are kept); returns this.
     */
    public Module to(DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("Module.to: expected a floating dtype (F32 or F64), got " + dtype);
        }
        apply(m -> {
            m.parameters.values().forEach(p -> p.to(dtype));
            m.buffers.replaceAll((n, b) -> b.dtype().isFloating() ? b.to(dtype) : b);
        });
        return this;
    }

    /** One line describing this module's own configuration, e.g. {@code Linear(784 -> 300)}. */
    protected String describe() {
        return getClass().getSimpleName();
    }

    @Override
    public String toString() {
        return ModuleSummary.format(this);
    }
}
