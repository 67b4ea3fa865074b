package dev.kiln.nn.train;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import java.util.Arrays;

/**
 * Running loss and accuracy over batches, weighted by batch size, summed in double in batch order
 * (so the same batches give the same figures bit for bit).
 *
 * <pre>{@code
 * Metrics m = new Metrics();
 * m.add(loss.item(), logits, y);
 * double acc = m.accuracy();
 * }</pre>
 */
public final class Metrics {
    private double lossSum;
    private long samples;
    private long correct;
    private boolean classification = true;

    /**
     * Adds one batch: its mean loss and, when {@code output} is [N, C] class scores and
     * {@code target} [N] integer labels, its correct predictions.
     */
    public void add(double meanLoss, Tensor output, Tensor target) {
        int n = target.rank() == 0 ? 1 : target.size(0);
        lossSum += meanLoss * n;
        samples += n;
        if (classification && isClassification(output, target)) {
            correct += correct(output, target);
        } else {
            classification = false;
        }
    }

    /** Whether {@code output} [N, C] and {@code target} [N] integer labels can be scored as classes. */
    public static boolean isClassification(Tensor output, Tensor target) {
        return output.rank() == 2 && target.rank() == 1 && output.size(0) == target.size(0)
                && (target.dtype() == DType.I64 || target.dtype() == DType.I32);
    }

    /** How many rows of {@code output} [N, C] have their largest score at the class in {@code target} [N]. */
    public static long correct(Tensor output, Tensor target) {
        if (!isClassification(output, target)) {
            throw new IllegalArgumentException("Metrics.correct: expected output [N, C] and integer target [N], got "
                    + Arrays.toString(output.shape()) + " " + output.dtype() + " and "
                    + Arrays.toString(target.shape()) + " " + target.dtype());
        }
        long[] predicted = output.detach().argmax(1, false).toLongArray();
        long[] labels = target.toLongArray();
        long hits = 0;
        for (int i = 0; i < labels.length; i++) {
            if (predicted[i] == labels[i]) {
                hits++;
            }
        }
        return hits;
    }

    /** Mean loss per sample so far ({@code NaN} before the first batch). */
    public double loss() {
        return samples == 0 ? Double.NaN : lossSum / samples;
    }

    /** Fraction classified correctly so far ({@code NaN} before the first batch or when not classification). */
    public double accuracy() {
        return samples == 0 || !classification ? Double.NaN : (double) correct / samples;
    }

    /** Samples added so far. */
    public long samples() {
        return samples;
    }
}
