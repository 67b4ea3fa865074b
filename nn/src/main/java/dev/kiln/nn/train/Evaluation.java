package dev.kiln.nn.train;

/**
 * The result of {@link Trainer#evaluate}: mean loss and accuracy over {@code samples} samples
 * ({@code accuracy} is {@code NaN} when the outputs are not class scores).
 */
public record Evaluation(double loss, double accuracy, long samples) {
}
