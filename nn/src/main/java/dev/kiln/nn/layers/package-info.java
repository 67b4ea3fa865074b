/**
 * Layers, initialisation and the reference models, each layer a {@link dev.kiln.nn.Module} that
 * composes engine ops in its forward pass and names its tensors as PyTorch does ({@code weight},
 * {@code bias}, {@code running_mean}, {@code features.0.weight}), with PyTorch's default
 * initialisations ({@link dev.kiln.nn.layers.Init}).
 *
 * <pre>{@code
 * Generator gen = new Generator(42);
 * Sequential model = new Sequential(new Flatten(), new Linear(784, 300, gen), new ReLU(), new Linear(300, 10, gen));
 * Tensor logits = model.forward(images);          // [N, 1, 28, 28] -> [N, 10]
 * model.eval();                                   // dropout off, batch norm on running statistics
 * System.out.println(Models.lenet5(gen));         // the layer tree with shapes and parameter counts
 * }</pre>
 */
package dev.kiln.nn.layers;
