package dev.kiln.kernels.ref;

import dev.kiln.kernels.cpu.SliceArgs;

/**
 * Double references of {@link dev.kiln.kernels.cpu.Reduce}: the same {@code (outer, n, inner)}
 * layout (element {@code (o, j, i)} at {@code x[xOff + (o*n + j)*inner + i]}, result {@code (o, i)}
 * written to {@code out[outOff + o*inner + i]}), the same NaN rules, one plain loop each.
 *
 * <pre>{@code
 * RefReduce.sum(colSums, 0, m, 0, 1, rows, cols);
 * }</pre>
 */
public final class RefReduce {
    private RefReduce() {
    }

    /** {@code out[o, i] = sum_j x[o, j, i]}; writes zeros when {@code n == 0}. */
    public static void sum(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("sum", out.length, outOff, x.length, xOff, outer, n, inner, false);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += x[xOff + (o * n + j) * inner + i];
                }
                out[outOff + o * inner + i] = s;
            }
        }
    }

    /** {@code out[o, i] = max_j x[o, j, i]} ({@link Math#max}: NaN if any is NaN). */
    public static void max(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("max", out.length, outOff, x.length, xOff, outer, n, inner, true);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double m = x[xOff + o * n * inner + i];
                for (int j = 1; j < n; j++) {
                    m = Math.max(m, x[xOff + (o * n + j) * inner + i]);
                }
                out[outOff + o * inner + i] = m;
            }
        }
    }

    /** {@code out[o, i] = min_j x[o, j, i]} ({@link Math#min}: NaN if any is NaN). */
    public static void min(double[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("min", out.length, outOff, x.length, xOff, outer, n, inner, true);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double m = x[xOff + o * n * inner + i];
                for (int j = 1; j < n; j++) {
                    m = Math.min(m, x[xOff + (o * n + j) * inner + i]);
                }
                out[outOff + o * inner + i] = m;
            }
        }
    }

    /** {@code out[o, i] =} the first j where {@code x[o, j, i]} is largest, or the first NaN. */
    public static void argmax(long[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("argmax", out.length, outOff, x.length, xOff, outer, n, inner, true);
        arg(out, outOff, x, xOff, outer, n, inner, 1);
    }

    /** {@code out[o, i] =} the first j where {@code x[o, j, i]} is smallest, or the first NaN. */
    public static void argmin(long[] out, int outOff, double[] x, int xOff, int outer, int n, int inner) {
        SliceArgs.reduction("argmin", out.length, outOff, x.length, xOff, outer, n, inner, true);
        arg(out, outOff, x, xOff, outer, n, inner, -1);
    }

    /** Argmax of {@code sign * x}: a later value replaces the best only if strictly larger, or the first NaN. */
    private static void arg(long[] out, int outOff, double[] x, int xOff, int outer, int n, int inner, double sign) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double best = sign * x[xOff + o * n * inner + i];
                int at = 0;
                for (int j = 1; j < n; j++) {
                    double v = sign * x[xOff + (o * n + j) * inner + i];
                    if (v > best || Double.isNaN(v) && !Double.isNaN(best)) {
                        best = v;
                        at = j;
                    }
                }
                out[outOff + o * inner + i] = at;
            }
        }
    }

    /** The sum of {@code x[xOff .. xOff + n)}. */
    public static double sumAll(double[] x, int xOff, int n) {
        SliceArgs.count("sumAll", "n", n);
        SliceArgs.slice("sumAll", "x", x.length, xOff, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[xOff + i];
        }
        return s;
    }
}
