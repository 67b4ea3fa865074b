/**
 * Neural-network building blocks on the engine: {@link dev.kiln.nn.Module} with named parameters
 * and buffers in PyTorch-compatible dotted paths, layers, losses, optimizers and schedules, data
 * loading, safetensors checkpoints and a training loop.
 *
 * <pre>{@code
 * Module model = new Sequential(new Linear(784, 300, gen), new ReLU(), new Linear(300, 10, gen));
 * Tensor loss = Losses.crossEntropy(model.forward(x), y);
 * loss.backward();
 * optimizer.step();
 * }</pre>
 */
package dev.kiln.nn;
