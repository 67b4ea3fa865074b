package dev.kiln.nn.data;

import dev.kiln.engine.Tensor;

/**
 * One batch from a {@link DataLoader}.
 *
 * @param x the samples, F32 {@code [B, ...sampleShape]}
 * @param y the labels, I64 {@code [B]}
 */
public record Batch(Tensor x, Tensor y) {
    /** Number of samples in the batch (B). */
    public int size() {
        return x.size(0);
    }
}
