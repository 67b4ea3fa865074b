package dev.kiln.kernels.ref;

import dev.kiln.kernels.cpu.SliceArgs;

/**
 * Double references of {@link dev.kiln.kernels.cpu.Softmax}: softmax and log-softmax over the middle
 * axis of an {@code (outer, n, inner)} layout and their backward passes, all writing ({@code =}),
 * with the max subtracted first.
 *
 * <pre>{@code
 * RefSoftmax.logSoftmax(logp, 0, logits, 0, batch, classes, 1);
 * }</pre>
 */
public final class RefSoftmax {
    private RefSoftmax() {
    }

    /** {@code out[o, j, i] = exp(x[o, j, i] - m) / sum_k exp(x[o, k, i] - m)}, m the max over j. */
    public static void softmax(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.slab("softmax", "out", out.length, outOff, outer, n, inner);
        SliceArgs.slab("softmax", "x", x.length, xOff, outer, n, inner);
        forward(out, outOff, x, xOff, outer, n, inner, false);
    }

    /** {@code out[o, j, i] = x[o, j, i] - m - log(sum_k exp(x[o, k, i] - m))}, m the max over j. */
    public static void logSoftmax(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.slab("logSoftmax", "out", out.length, outOff, outer, n, inner);
        SliceArgs.slab("logSoftmax", "x", x.length, xOff, outer, n, inner);
        forward(out, outOff, x, xOff, outer, n, inner, true);
    }

    private static void forward(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner,
                                boolean log) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    m = Math.max(m, x[xOff + base + j * inner]);
                }
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += Math.exp(x[xOff + base + j * inner] - m);
                }
                double logSum = Math.log(s);
                for (int j = 0; j < n; j++) {
                    double shifted = x[xOff + base + j * inner] - m;
                    out[outOff + base + j * inner] = log ? shifted - logSum : Math.exp(shifted) / s;
                }
            }
        }
    }

    /** {@code gx[o, j, i] = y[o, j, i] * (gy[o, j, i] - sum_k gy[o, k, i] * y[o, k, i])}, y the softmax output. */
    public static void softmaxBackward(double[] gx, int gxOff, double[] y, int yOff, double[] gy, int gyOff,
                                       int outer, int n, int inner) {
        SliceArgs.slab("softmaxBackward", "gx", gx.length, gxOff, outer, n, inner);
        SliceArgs.slab("softmaxBackward", "y", y.length, yOff, outer, n, inner);
        SliceArgs.slab("softmaxBackward", "gy", gy.length, gyOff, outer, n, inner);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double dot = 0;
                for (int j = 0; j < n; j++) {
                    dot += gy[gyOff + base + j * inner] * y[yOff + base + j * inner];
                }
                for (int j = 0; j < n; j++) {
                    int k = base + j * inner;
                    gx[gxOff + k] = y[yOff + k] * (gy[gyOff + k] - dot);
                }
            }
        }
    }

    /** {@code gx[o, j, i] = gy[o, j, i] - exp(y[o, j, i]) * sum_k gy[o, k, i]}, y the log-softmax output. */
    public static void logSoftmaxBackward(double[] gx, int gxOff, double[] y, int yOff, double[] gy, int gyOff,
                                          int outer, int n, int inner) {
        SliceArgs.slab("logSoftmaxBackward", "gx", gx.length, gxOff, outer, n, inner);
        SliceArgs.slab("logSoftmaxBackward", "y", y.length, yOff, outer, n, inner);
        SliceArgs.slab("logSoftmaxBackward", "gy", gy.length, gyOff, outer, n, inner);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += gy[gyOff + base + j * inner];
                }
                for (int j = 0; j < n; j++) {
                    int k = base + j * inner;
                    gx[gxOff + k] = gy[gyOff + k] - Math.exp(y[yOff + k]) * s;
                }
            }
        }
    }

    /** Double reference of {@link dev.kiln.kernels.cpu.Softmax#crossEntropy} (same stats layout). */
    public static void crossEntropy(double[] loss, int lossOff, double[] stats, int statsOff, double[] x, int xOff,
                                    long[] target, int tOff, int rows, int n) {
        SliceArgs.crossEntropy("crossEntropy", rows, n, x.length, xOff, target, tOff, "loss", loss.length, lossOff);
        SliceArgs.slice("crossEntropy", "stats", stats.length, statsOff, 2L * rows);
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * n;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                m = Math.max(m, x[xo + j]);
            }
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(x[xo + j] - m);
            }
            double logSum = Math.log(s);
            stats[statsOff + 2 * r] = m;
            stats[statsOff + 2 * r + 1] = logSum;
            loss[lossOff + r] = (m - x[xo + (int) target[tOff + r]]) + logSum;
        }
    }

    /** Double reference of {@link dev.kiln.kernels.cpu.Softmax#crossEntropyBackward}. */
    public static void crossEntropyBackward(double[] gx, int gxOff, double[] x, int xOff, double[] stats, int statsOff,
                                            long[] target, int tOff, double[] g, int gOff, int rows, int n) {
        SliceArgs.crossEntropy("crossEntropyBackward", rows, n, x.length, xOff, target, tOff, "g", g.length, gOff);
        SliceArgs.slab("crossEntropyBackward", "gx", gx.length, gxOff, rows, n, 1);
        SliceArgs.slice("crossEntropyBackward", "stats", stats.length, statsOff, 2L * rows);
        for (int r = 0; r < rows; r++) {
            int t = (int) target[tOff + r];
            double m = stats[statsOff + 2 * r];
            double logSum = stats[statsOff + 2 * r + 1];
            for (int j = 0; j < n; j++) {
                double p = Math.exp(x[xOff + r * n + j] - m - logSum);
                gx[gxOff + r * n + j] = g[gOff + r] * (p - (j == t ? 1 : 0));
            }
        }
    }
}
