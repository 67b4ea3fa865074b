package dev.kiln.kernels.ref;

/**
 * Double references of {@link dev.kiln.kernels.cpu.BatchNorm}, the same layout ({@code (n, c, s)},
 * element {@code (i, ch, k)} at {@code (i*c + ch)*s + k}) and formulas, in plain loops: per-channel
 * mean and biased variance (two passes), {@code y = (x - mean)*invstd*gamma + beta}, and the backward
 * pass from {@code sum gy} and {@code sum gy*(x - mean)}. A null gamma is 1, a null beta 0, a null
 * output is skipped.
 */
public final class RefBatchNorm {
    private RefBatchNorm() {
    }

    /** Writes the batch statistics ({@code var} biased) and {@code y}. */
    public static void forwardTraining(double[] y, double[] mean, double[] var, double[] invstd, double[] x,
                                       double[] gamma, double[] beta, double eps, int n, int c, int s) {
        long count = (long) n * s;
        if (count == 0) {
            throw new IllegalArgumentException("RefBatchNorm.forwardTraining: expected at least one value per channel, got n="
                    + n + " s=" + s);
        }
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    sum += x[(i * c + ch) * s + k];
                }
            }
            double m = sum / count;
            double sq = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    double d = x[(i * c + ch) * s + k] - m;
                    sq += d * d;
                }
            }
            mean[ch] = m;
            var[ch] = sq / count;
        }
        invstd(invstd, var, eps, c);
        forward(y, x, mean, invstd, gamma, beta, n, c, s);
    }

    /** {@code invstd[ch] = 1/sqrt(var[ch] + eps)} for {@code ch < c}: the batch's or the running variances. */
    public static void invstd(double[] invstd, double[] var, double eps, int c) {
        for (int ch = 0; ch < c; ch++) {
            invstd[ch] = 1 / Math.sqrt(var[ch] + eps);
        }
    }

    /** {@code y = (x - mean)*invstd*gamma + beta}. */
    public static void forward(double[] y, double[] x, double[] mean, double[] invstd, double[] gamma, double[] beta,
                               int n, int c, int s) {
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                double g = gamma == null ? 1 : gamma[ch];
                double b = beta == null ? 0 : beta[ch];
                for (int k = 0; k < s; k++) {
                    int at = (i * c + ch) * s + k;
                    y[at] = (x[at] - mean[ch]) * invstd[ch] * g + b;
                }
            }
        }
    }

    /** The gradients of {@link #forwardTraining} ({@code batchStats}) or {@link #forward}. */
    public static void backward(double[] gx, double[] gGamma, double[] gBeta, double[] gy, double[] x, double[] mean,
                                double[] invstd, double[] gamma, boolean batchStats, int n, int c, int s) {
        long count = (long) n * s;
        for (int ch = 0; ch < c; ch++) {
            double sg = 0;
            double sd = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    int at = (i * c + ch) * s + k;
                    sg += gy[at];
                    sd += gy[at] * (x[at] - mean[ch]);
                }
            }
            double is = invstd[ch];
            if (gGamma != null) {
                gGamma[ch] = sd * is;
            }
            if (gBeta != null) {
                gBeta[ch] = sg;
            }
            if (gx == null) {
                continue;
            }
            double scale = is * (gamma == null ? 1 : gamma[ch]);
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    int at = (i * c + ch) * s + k;
                    gx[at] = batchStats && count > 0
                            ? (gy[at] - sg / count - (x[at] - mean[ch]) * is * is * sd / count) * scale
                            : gy[at] * scale;
                }
            }
        }
    }
}
