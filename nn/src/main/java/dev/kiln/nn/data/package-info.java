/**
 * Data for training: {@link dev.kiln.nn.data.Dataset} and its in-memory form, a
 * {@link dev.kiln.nn.data.DataLoader} that batches with seeded shuffling, drop-last, per-sample
 * {@link dev.kiln.nn.data.Transforms} (normalize, random crop with padding, horizontal flip) and
 * background prefetch, all deterministic for a given seed; readers for IDX files (MNIST,
 * Fashion-MNIST; gzip or raw) and CSV tables; and {@link dev.kiln.nn.data.FashionMnist}, with a
 * balanced subset shipped in the jar and the full set found where Debian installs it.
 *
 * <pre>{@code
 * Split data = FashionMnist.embedded();
 * DataLoader train = DataLoader.builder(data.train()).batchSize(64).shuffle(true).seed(1)
 *         .transforms(Transforms.normalize(0.2860, 0.3530)).prefetch(2).build();
 * for (Batch b : train) {
 *     Tensor logits = model.forward(b.x());          // x: F32 [64, 1, 28, 28], y: I64 [64]
 * }
 * }</pre>
 */
package dev.kiln.nn.data;
