package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * fp32 softmax and log-softmax over the middle axis of an {@code (outer, n, inner)} layout (element
 * {@code (o, j, i)} at {@code off + (o*n + j)*inner + i}, the same layout for every buffer), with
 * their backward passes. All write ({@code =}). The forward passes subtract the max first, so large
 * logits do not overflow; sums accumulate in double. Rows ({@code inner == 1}) run as vector row
 * loops, other layouts vectorize across {@code inner}; inputs of {@code >= 32768} elements are split
 * over {@link Parallel}. A NaN in a softmax group makes the whole group NaN.
 *
 * <pre>{@code
 * Softmax.logSoftmax(logp, 0, logits, 0, batch, classes, 1);
 * Softmax.softmax(y, 0, x, 0, n, c, h * w);   // over the channels of an NCHW tensor
 * }</pre>
 */
public final class Softmax {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private Softmax() {
    }

    /** {@code out[o, j, i] = exp(x[o, j, i] - m) / sum_k exp(x[o, k, i] - m)}, m the max over j. */
    public static void softmax(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.slab("softmax", "out", out.length, outOff, outer, n, inner);
        SliceArgs.slab("softmax", "x", x.length, xOff, outer, n, inner);
        if (n == 0) {
            return;
        }
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int xo = xOff + o * n;
                    int oo = outOff + o * n;
                    double s = RowLoops.expShifted(out, oo, x, xo, RowLoops.max(x, xo, n), n);
                    scaleRow(out, oo, (float) (1 / s), n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) -> SoftmaxCols.softmax(out, outOff + o * n * inner,
                    x, xOff + o * n * inner, n, inner, c0, c1));
        }
    }

    /** {@code out[o, j, i] = x[o, j, i] - m - log(sum_k exp(x[o, k, i] - m))}, m the max over j. */
    public static void logSoftmax(float[] out, int outOff, float[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.slab("logSoftmax", "out", out.length, outOff, outer, n, inner);
        SliceArgs.slab("logSoftmax", "x", x.length, xOff, outer, n, inner);
        if (n == 0) {
            return;
        }
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int xo = xOff + o * n;
                    float m = RowLoops.max(x, xo, n);
                    float logSum = (float) VMathD.log(RowLoops.sumExpShifted(x, xo, m, n));
                    shiftRow(out, outOff + o * n, x, xo, m, logSum, n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) -> SoftmaxCols.logSoftmax(out,
                    outOff + o * n * inner, x, xOff + o * n * inner, n, inner, c0, c1));
        }
    }

    /** {@code gx[o, j, i] = y[o, j, i] * (gy[o, j, i] - sum_k gy[o, k, i] * y[o, k, i])}, y the softmax output. */
    public static void softmaxBackward(float[] gx, int gxOff, float[] y, int yOff, float[] gy, int gyOff,
                                       int outer, int n, int inner) {
        SliceArgs.slab("softmaxBackward", "gx", gx.length, gxOff, outer, n, inner);
        SliceArgs.slab("softmaxBackward", "y", y.length, yOff, outer, n, inner);
        SliceArgs.slab("softmaxBackward", "gy", gy.length, gyOff, outer, n, inner);
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int r = o * n;
                    float dot = (float) RowLoops.dot(gy, gyOff + r, y, yOff + r, n);
                    softmaxGradRow(gx, gxOff + r, y, yOff + r, gy, gyOff + r, dot, n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) -> SoftmaxCols.softmaxBackward(gx,
                    gxOff + o * n * inner, y, yOff + o * n * inner, gy, gyOff + o * n * inner, n, inner, c0, c1));
        }
    }

    /** {@code gx[o, j, i] = gy[o, j, i] - exp(y[o, j, i]) * sum_k gy[o, k, i]}, y the log-softmax output. */
    public static void logSoftmaxBackward(float[] gx, int gxOff, float[] y, int yOff, float[] gy, int gyOff,
                                          int outer, int n, int inner) {
        SliceArgs.slab("logSoftmaxBackward", "gx", gx.length, gxOff, outer, n, inner);
        SliceArgs.slab("logSoftmaxBackward", "y", y.length, yOff, outer, n, inner);
        SliceArgs.slab("logSoftmaxBackward", "gy", gy.length, gyOff, outer, n, inner);
        if (inner == 1) {
            SlabSplit.rows(outer, n, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    int r = o * n;
                    float sum = (float) RowLoops.sum(gy, gyOff + r, n);
                    logSoftmaxGradRow(gx, gxOff + r, y, yOff + r, gy, gyOff + r, sum, n);
                }
            });
        } else {
            SlabSplit.columns(outer, n, inner, (o, c0, c1) -> SoftmaxCols.logSoftmaxBackward(gx,
                    gxOff + o * n * inner, y, yOff + o * n * inner, gy, gyOff + o * n * inner, n, inner, c0, c1));
        }
    }

    private static void scaleRow(float[] x, int off, float f, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(f).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= f;
        }
    }

    private static void shiftRow(float[] out, int oo, float[] x, int xo, float m, float logSum, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).sub(m).sub(logSum).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = x[xo + i] - m - logSum;
        }
    }

    private static void softmaxGradRow(float[] gx, int go, float[] y, int yo, float[] gy, int gyo, float dot,
                                       int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector yv = FloatVector.fromArray(F, y, yo + i);
            yv.mul(FloatVector.fromArray(F, gy, gyo + i).sub(dot)).intoArray(gx, go + i);
        }
        for (; i < n; i++) {
            gx[go + i] = y[yo + i] * (gy[gyo + i] - dot);
        }
    }

    private static void logSoftmaxGradRow(float[] gx, int go, float[] y, int yo, float[] gy, int gyo, float sum,
                                          int n) {
        FloatVector negSum = FloatVector.broadcast(F, -sum);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector e = VMath.exp(FloatVector.fromArray(F, y, yo + i));
            e.fma(negSum, FloatVector.fromArray(F, gy, gyo + i)).intoArray(gx, go + i);
        }
        for (; i < n; i++) {
            gx[go + i] = Math.fma(VMath.exp(y[yo + i]), -sum, gy[gyo + i]);
        }
    }

    /**
     * Fused cross-entropy of rows of logits {@code x [rows, n]} against class indices:
     * {@code loss[r] = (m_r - x[r, target[r]]) + log sum_j exp(x[r, j] - m_r)}, {@code m_r} the row
     * max (the sum in double), which is {@code -log_softmax(x)[r, target[r]]} rounded as PyTorch
     * rounds it. {@code stats [rows, 2]} keeps {@code m_r} and the log-sum for the backward pass.
     * One pass over each row instead of log-softmax, gather and negate.
     *
     * @throws IllegalArgumentException on negative dims, buffers too small, or a target outside {@code [0, n)}
     */
    public static void crossEntropy(float[] loss, int lossOff, float[] stats, int statsOff, float[] x, int xOff,
                                    long[] target, int tOff, int rows, int n) {
        SliceArgs.crossEntropy("crossEntropy", rows, n, x.length, xOff, target, tOff, "loss", loss.length, lossOff);
        SliceArgs.slice("crossEntropy", "stats", stats.length, statsOff, 2L * rows);
        SlabSplit.rows(rows, n, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int xo = xOff + r * n;
                float m = RowLoops.max(x, xo, n);
                float logSum = (float) VMathD.log(RowLoops.sumExpShifted(x, xo, m, n));
                stats[statsOff + 2 * r] = m;
                stats[statsOff + 2 * r + 1] = logSum;
                loss[lossOff + r] = (m - x[xo + (int) target[tOff + r]]) + logSum;
            }
        });
    }

    /**
     * Gradient of {@link #crossEntropy}: {@code gx[r, j] = g[r] * (softmax(x)[r, j] - [j == target[r]])}
     * with {@code softmax(x)[r, j] = exp((x[r, j] - m_r) - logSum_r)} from {@code stats}.
     *
     * @throws IllegalArgumentException as {@link #crossEntropy}
     */
    public static void crossEntropyBackward(float[] gx, int gxOff, float[] x, int xOff, float[] stats, int statsOff,
                                            long[] target, int tOff, float[] g, int gOff, int rows, int n) {
        SliceArgs.crossEntropy("crossEntropyBackward", rows, n, x.length, xOff, target, tOff, "g", g.length, gOff);
        SliceArgs.slab("crossEntropyBackward", "gx", gx.length, gxOff, rows, n, 1);
        SliceArgs.slice("crossEntropyBackward", "stats", stats.length, statsOff, 2L * rows);
        SlabSplit.rows(rows, n, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int xo = xOff + r * n;
                int go = gxOff + r * n;
                float gr = g[gOff + r];
                float m = stats[statsOff + 2 * r];
                float logSum = stats[statsOff + 2 * r + 1];
                FloatVector scale = FloatVector.broadcast(F, gr);
                FloatVector vm = FloatVector.broadcast(F, m);
                FloatVector vl = FloatVector.broadcast(F, logSum);
                int i = 0;
                for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
                    VMath.exp(FloatVector.fromArray(F, x, xo + i).sub(vm).sub(vl)).mul(scale).intoArray(gx, go + i);
                }
                for (; i < n; i++) {
                    gx[go + i] = VMath.exp(x[xo + i] - m - logSum) * gr;
                }
                int t = (int) target[tOff + r];
                gx[go + t] = (VMath.exp(x[xo + t] - m - logSum) - 1f) * gr;
            }
        });
    }
}
