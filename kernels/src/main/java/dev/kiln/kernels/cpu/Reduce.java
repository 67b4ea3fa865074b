package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;

/**
 * fp32 reductions over the middle axis of an {@code (outer, n, inner)} layout: element
 * {@code (o, j, i)} is {@code x[xOff + (o*n + j)*inner + i]} and the result for {@code (o, i)} is
 * written ({@code =}) to {@code out[outOff + o*inner + i]}. Rows ({@code inner == 1}) run as vector
 * row loops, other layouts vectorize across {@code inner}. Sums accumulate in double, so even for a
 * million elements the final rounding to float is the only sizable error. Max and min return NaN
 * when the reduced values hold one, and argmax/argmin then point at the first NaN, as PyTorch does.
 * Inputs of {@code >= 32768} elements are split over {@link Parallel}.
 *
 * <pre>{@code
 * Reduce.sum(colSums, 0, m, 0, 1, rows, cols);   // sum over the rows of a [rows, cols] matrix
 * Reduce.argmax(pred, 0, logits, 0, batch, classes, 1);
 * }</pre>
 */
public final class Reduce {
    /** Elements per partial sum of {@link #sumAll} on large inputs (fixed, so results do not depend on threads). */
    private static final int SUM_BLOCK = 8192;

    private Reduce() {
    }

    /** {@code out[o, i] = sum_j x[o, j, i]}; writes zeros when {@code n == 0}. */
    public static void sum(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("sum", out.length, outOff, x.length, xOff, outer, n, inner, false);
        if (inner == 1 && outer == 1) {
            out[outOff] = (float) blockedSum(x, xOff, n);
        } else if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    out[outOff + o] = (float) RowLoops.sum(x, xOff + o * n, n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) ->
                    ColLoops.sum(out, outOff + o * inner, x, xOff + o * n * inner, n, inner, c0, c1));
        }
    }

    /** {@code out[o, i] = max_j x[o, j, i]} (NaN if any is NaN); {@code n >= 1} unless the output is empty. */
    public static void max(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("max", out.length, outOff, x.length, xOff, outer, n, inner, true);
        extreme(out, outOff, x, xOff, outer, n, inner, 1f);
    }

    /** {@code out[o, i] = min_j x[o, j, i]} (NaN if any is NaN); {@code n >= 1} unless the output is empty. */
    public static void min(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("min", out.length, outOff, x.length, xOff, outer, n, inner, true);
        extreme(out, outOff, x, xOff, outer, n, inner, -1f);
    }

    /** Max for sign 1, min for sign -1. */
    private static void extreme(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner,
                                float sign) {
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int row = xOff + o * n;
                    out[outOff + o] = sign > 0 ? RowLoops.max(x, row, n) : RowLoops.min(x, row, n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) ->
                    ColLoops.max(out, outOff + o * inner, x, xOff + o * n * inner, n, inner, c0, c1, sign));
        }
    }

    /**
     * {@code out[o, i] =} the first j where {@code x[o, j, i]} is largest (the first NaN if there is
     * one); {@code n >= 1} unless the output is empty.
     */
    public static void argmax(long[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("argmax", out.length, outOff, x.length, xOff, outer, n, inner, true);
        argExtreme(out, outOff, x, xOff, outer, n, inner, 1f);
    }

    /**
     * {@code out[o, i] =} the first j where {@code x[o, j, i]} is smallest (the first NaN if there is
     * one); {@code n >= 1} unless the output is empty.
     */
    public static void argmin(long[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("argmin", out.length, outOff, x.length, xOff, outer, n, inner, true);
        argExtreme(out, outOff, x, xOff, outer, n, inner, -1f);
    }

    /** Argmax for sign 1, argmin for sign -1. */
    private static void argExtreme(long[] out, int outOff, float[] x, int xOff, int outer, int n, int inner,
                                   float sign) {
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int row = xOff + o * n;
                    float m = sign > 0 ? RowLoops.max(x, row, n) : RowLoops.min(x, row, n);
                    out[outOff + o] = RowLoops.indexOf(x, row, n, m);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) ->
                    ColLoops.argmax(out, outOff + o * inner, x, xOff + o * n * inner, n, inner, c0, c1, sign));
        }
    }

    /**
     * The sum of {@code x[xOff .. xOff + n)}, accumulated in double. Large inputs are summed in fixed
     * blocks of 8192 over {@link Parallel}, so the result does not depend on the number of threads.
     */
    public static double sumAll(float[] x, int xOff, int n) {
        SliceArgs.count("sumAll", "n", n);
        SliceArgs.slice("sumAll", "x", x.length, xOff, n);
        return blockedSum(x, xOff, n);
    }

    private static double blockedSum(float[] x, int xOff, int n) {
        if (n < SlabSplit.PARALLEL_MIN) {
            return RowLoops.sum(x, xOff, n);
        }
        int blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, 2, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                int start = b * SUM_BLOCK;
                partial[b] = RowLoops.sum(x, xOff + start, Math.min(SUM_BLOCK, n - start));
            }
        });
        double s = 0;
        for (double p : partial) {
            s += p;
        }
        return s;
    }
}
