/**
 * Checkpoint I/O in the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, byte-compatible with the reference implementation: {@link dev.kiln.nn.io.Safetensors}
 * writes tensor maps atomically and opens files memory-mapped with the header validated before
 * anything is allocated ({@link dev.kiln.nn.io.SafetensorsFile}); {@link dev.kiln.nn.io.Checkpoint}
 * saves and loads a module's state dict, interchangeable with PyTorch's
 * {@code safetensors.torch.save_file(model.state_dict(), path)}.
 *
 * <pre>{@code
 * Checkpoint.save(model, Path.of("model.safetensors"), Map.of("epoch", "5"));
 * LoadReport report = Checkpoint.load(model, Path.of("model.safetensors"), true);
 *
 * try (SafetensorsFile f = Safetensors.read(Path.of("pretrained.safetensors"))) {
 *     for (String name : f.names()) {
 *         System.out.println(name + " " + f.dtype(name) + " " + Arrays.toString(f.shape(name)));
 *     }
 *     Tensor w = f.tensor("features.0.weight");   // F16/BF16 come back as F32
 * }
 * }</pre>
 */
package dev.kiln.nn.io;
