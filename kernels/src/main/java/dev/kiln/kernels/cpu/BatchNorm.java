package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.LT;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * fp32 batch normalization over an {@code (n, c, s)} layout: element {@code (i, ch, k)} at
 * {@code (i*c + ch)*s + k} (NCHW with {@code s = H*W}, or {@code [N, C]} with {@code s = 1}), one
 * mean and variance per channel over its {@code n*s} values. Each channel is done start to end by one
 * thread (its data stays in L2 between the passes: statistics, then the normalized output), channels
 * are split over {@link Parallel}, so the results do not depend on the number of threads.
 *
 * <p>Statistics accumulate in double: the sum first, then the squared deviations from the mean (two
 * passes, no cancellation). The output is {@code y = x*a + b} in float with {@code a = invstd*gamma}
 * and {@code b = beta - mean*a} per channel, as PyTorch's CPU kernel computes it. The backward pass
 * sums {@code gy} and {@code gy*(x - mean)} per channel in double, then writes
 * {@code gx = (gy - mean(gy) - (x - mean)*invstd^2*mean(gy*(x - mean)))*invstd*gamma} for batch
 * statistics, {@code gx = gy*invstd*gamma} for running statistics. A missing gamma is 1, a missing
 * beta 0; a null output is not computed. {@code [N, C]} inputs ({@code s = 1}) run across the
 * channels instead ({@link BatchNormCols}), with the same arithmetic per channel.
 *
 * <p>Batch norm followed by a ReLU (conv, batch norm, ReLU blocks) fuses: the forward passes take
 * {@code relu} and store {@code y < 0 ? 0 : y} (NaN kept, as the unfused ReLU), and the backward
 * pass takes that output and uses {@code y > 0 ? gy : 0} for {@code gy}, as the unfused ReLU's
 * gradient would give it: the same bits as batch norm, ReLU and their two gradients apart, without
 * the ReLU's output and input gradient (a tensor each, written and read again).
 *
 * <pre>{@code
 * BatchNorm.forwardTraining(y, mean, var, invstd, x, gamma, beta, 1e-5, n, c, h * w);
 * BatchNorm.backward(gx, gGamma, gBeta, gy, x, mean, invstd, gamma, true, n, c, h * w);
 * }</pre>
 */
public final class BatchNorm {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Channels per task: at least this many values each before a channel is handed to another thread. */
    private static final int GRAIN_VALUES = 16384;

    private BatchNorm() {
    }

    /**
     * Normalizes with the batch's own statistics: writes {@code mean[ch]}, the biased variance
     * {@code var[ch]}, {@code invstd[ch] = 1/sqrt(var + eps)} and {@code y}. Needs {@code n*s >= 1}.
     */
    public static void forwardTraining(float[] y, float[] mean, float[] var, float[] invstd, float[] x,
                                       float[] gamma, float[] beta, double eps, int n, int c, int s) {
        forwardTraining(y, mean, var, invstd, x, gamma, beta, eps, n, c, s, false);
    }

    /** {@link #forwardTraining}, then with {@code relu} a ReLU on {@code y} in the same pass (class comment). */
    public static void forwardTraining(float[] y, float[] mean, float[] var, float[] invstd, float[] x,
                                       float[] gamma, float[] beta, double eps, int n, int c, int s, boolean relu) {
        check("forwardTraining", y, x, null, n, c, s);
        channel("forwardTraining", c, "mean", mean);
        channel("forwardTraining", c, "var", var);
        channel("forwardTraining", c, "invstd", invstd);
        affineArgs("forwardTraining", c, gamma, beta);
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("BatchNorm.forwardTraining: expected eps >= 0, got " + eps);
        }
        long count = (long) n * s;
        if (count == 0) {
            throw new IllegalArgumentException("BatchNorm.forwardTraining: expected at least one value per channel, got n="
                    + n + " s=" + s);
        }
        if (acrossChannels(s)) {
            BatchNormCols.forwardTraining(y, mean, var, invstd, x, gamma, beta, eps, n, c);
            if (relu) {
                reluInPlace(y, n * c);
            }
            return;
        }
        Parallel.forRange(c, grain(n, s), (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    sum += RowLoops.sum(x, (i * c + ch) * s, s);
                }
                double m = sum / count;
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    sq += RowLoops.sumSquaredDeviation(x, (i * c + ch) * s, m, s);
                }
                double v = sq / count;
                float is = invstd(v, eps);
                mean[ch] = (float) m;
                var[ch] = (float) v;
                invstd[ch] = is;
                affine(y, x, ch, (float) m, is, gamma, beta, n, c, s, floor(relu));
            }
        });
    }

    /** Normalizes with given statistics (running ones in eval mode): {@code y = (x - mean)*invstd*gamma + beta}. */
    public static void forward(float[] y, float[] x, float[] mean, float[] invstd, float[] gamma, float[] beta,
                               int n, int c, int s) {
        forward(y, x, mean, invstd, gamma, beta, n, c, s, false);
    }

    /** {@link #forward}, then with {@code relu} a ReLU on {@code y} in the same pass (class comment). */
    public static void forward(float[] y, float[] x, float[] mean, float[] invstd, float[] gamma, float[] beta,
                               int n, int c, int s, boolean relu) {
        check("forward", y, x, null, n, c, s);
        channel("forward", c, "mean", mean);
        channel("forward", c, "invstd", invstd);
        affineArgs("forward", c, gamma, beta);
        if (acrossChannels(s)) {
            BatchNormCols.forward(y, x, mean, invstd, gamma, beta, n, c);
            if (relu) {
                reluInPlace(y, n * c);
            }
            return;
        }
        Parallel.forRange(c, grain(n, s), (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                affine(y, x, ch, mean[ch], invstd[ch], gamma, beta, n, c, s, floor(relu));
            }
        });
    }

    /**
     * Gradients of {@link #forwardTraining} ({@code batchStats}) or {@link #forward}, given the mean
     * and invstd used: writes {@code gx}, {@code gGamma[ch] = sum gy*(x - mean)*invstd} and
     * {@code gBeta[ch] = sum gy}, each skipped when null.
     */
    public static void backward(float[] gx, float[] gGamma, float[] gBeta, float[] gy, float[] x, float[] mean,
                                float[] invstd, float[] gamma, boolean batchStats, int n, int c, int s) {
        backward(gx, gGamma, gBeta, gy, x, mean, invstd, gamma, batchStats, n, c, s, null);
    }

    /**
     * {@link #backward} through a fused ReLU: with {@code reluY} (the fused forward's output) not
     * null, {@code gy} is the gradient of that output and {@code reluY > 0 ? gy : 0} is used for it
     * (see the class comment); with null, {@link #backward}.
     */
    public static void backward(float[] gx, float[] gGamma, float[] gBeta, float[] gy, float[] x, float[] mean,
                                float[] invstd, float[] gamma, boolean batchStats, int n, int c, int s, float[] reluY) {
        check("backward", gy, x, gx, n, c, s);
        if (reluY != null) {
            SliceArgs.slab("BatchNorm.backward", "reluY", reluY.length, 0, n, c, s);
        }
        channel("backward", c, "mean", mean);
        channel("backward", c, "invstd", invstd);
        affineArgs("backward", c, gamma, null);
        if (gGamma != null) {
            channel("backward", c, "gGamma", gGamma);
        }
        if (gBeta != null) {
            channel("backward", c, "gBeta", gBeta);
        }
        long count = (long) n * s;
        if (acrossChannels(s)) {
            // [N, C] (BatchNorm1d): the masked gradient goes through a temporary of n*c floats.
            float[] g = gy;
            if (reluY != null) {
                g = new float[n * c];
                GemmEpilogue.reluBackward(g, 0, gy, 0, reluY, 0, n * c);
            }
            BatchNormCols.backward(gx, gGamma, gBeta, g, x, mean, invstd, gamma, batchStats, n, c);
            return;
        }
        // With a fused ReLU, each row of gy is masked into gx's row (the same values the unfused ReLU's
        // gradient would hold), which the sums then read and the input gradient rewrites in place; into a
        // row of scratch when gx is not wanted.
        float[] src = reluY == null ? gy : gx;
        Parallel.forRange(c, grain(n, s), (lo, hi) -> {
            float[] row = reluY != null && gx == null ? new float[s] : null;
            for (int ch = lo; ch < hi; ch++) {
                float m = mean[ch];
                float is = invstd[ch];
                double sg = 0;
                double sd = 0;
                for (int i = 0; i < n; i++) {
                    int off = (i * c + ch) * s;
                    float[] g = gy;
                    int go = off;
                    if (row != null) {
                        GemmEpilogue.reluBackward(row, 0, gy, off, reluY, off, s);
                        g = row;
                        go = 0;
                    } else if (reluY != null) {
                        GemmEpilogue.reluBackward(gx, off, gy, off, reluY, off, s);
                        g = gx;
                    }
                    sg += RowLoops.sum(g, go, s);
                    sd += RowLoops.dotDeviation(g, go, x, off, m, s);
                }
                if (gGamma != null) {
                    gGamma[ch] = (float) (sd * is);
                }
                if (gBeta != null) {
                    gBeta[ch] = (float) sg;
                }
                if (gx == null) {
                    continue;
                }
                float scale = scale(is, gamma, ch);
                if (batchStats && count > 0) {
                    float gm = (float) (sg / count);
                    float k = centerFactor(sd, count, is);
                    for (int i = 0; i < n; i++) {
                        int off = (i * c + ch) * s;
                        centered(gx, src, off, x, off, m, gm, k, scale, s);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        int off = (i * c + ch) * s;
                        scaled(gx, src, off, off, scale, s);
                    }
                }
            }
        });
    }

    /** What {@link #affine} clamps to: 0 for a fused ReLU, else -infinity (nothing is below it, NaN included). */
    private static float floor(boolean relu) {
        return relu ? 0f : Float.NEGATIVE_INFINITY;
    }

    /**
     * {@code y = x*a + b} over channel ch, {@code a = invstd*gamma}, {@code b = beta - mean*a}, then
     * {@code y < floor ? floor : y}: the ReLU for {@code floor = 0} (NaN and -0 kept, as the unfused
     * ReLU), nothing for -infinity. One loop for both (a compare and a blend more per vector in a
     * loop bound by memory; no branch around vector code).
     */
    private static void affine(float[] y, float[] x, int ch, float m, float is, float[] gamma, float[] beta,
                               int n, int c, int s, float floor) {
        float a = scale(is, gamma, ch);
        float b = shift(beta, ch, m, a);
        for (int i = 0; i < n; i++) {
            int off = (i * c + ch) * s;
            int k = 0;
            for (int ub = Simd.loopBoundF(s); k < ub; k += L) {
                FloatVector v = FloatVector.fromArray(F, x, off + k).fma(a, b);
                v.blend(floor, v.compare(LT, floor)).intoArray(y, off + k);
            }
            for (; k < s; k++) {
                float v = Math.fma(x[off + k], a, b);
                y[off + k] = v < floor ? floor : v;
            }
        }
    }

    /** {@code y = y < 0 ? 0 : y} over {@code y[0, n)}. */
    private static void reluInPlace(float[] y, int n) {
        int k = 0;
        for (int ub = Simd.loopBoundF(n); k < ub; k += L) {
            FloatVector v = FloatVector.fromArray(F, y, k);
            v.blend(0f, v.compare(LT, 0f)).intoArray(y, k);
        }
        for (; k < n; k++) {
            y[k] = y[k] < 0f ? 0f : y[k];
        }
    }

    /**
     * {@code gx = (gy - gm - (x - m)*k)*scale} over one row: gx and x from {@code off}, gy from {@code go}
     * (gy may be gx itself: each element is read before it is written).
     */
    private static void centered(float[] gx, float[] gy, int go, float[] x, int off, float m, float gm, float k,
                                 float scale, int s) {
        float nk = -k;
        FloatVector nkv = FloatVector.broadcast(F, nk);
        int j = 0;
        for (int ub = Simd.loopBoundF(s); j < ub; j += L) {
            FloatVector d = FloatVector.fromArray(F, x, off + j).sub(m);
            d.fma(nkv, FloatVector.fromArray(F, gy, go + j).sub(gm)).mul(scale).intoArray(gx, off + j);
        }
        for (; j < s; j++) {
            gx[off + j] = Math.fma(x[off + j] - m, nk, gy[go + j] - gm) * scale;
        }
    }

    /** {@code gx = gy*scale} over one row: gx from {@code off}, gy from {@code go} (may be gx). */
    private static void scaled(float[] gx, float[] gy, int go, int off, float scale, int s) {
        int j = 0;
        for (int ub = Simd.loopBoundF(s); j < ub; j += L) {
            FloatVector.fromArray(F, gy, go + j).mul(scale).intoArray(gx, off + j);
        }
        for (; j < s; j++) {
            gx[off + j] = gy[go + j] * scale;
        }
    }

    /**
     * {@code invstd[ch] = 1/sqrt(var[ch] + eps)} for {@code ch < c}, as the forward pass computes it from the
     * batch's variance: for normalizing with running statistics ({@link #forward}).
     */
    public static void invstd(float[] invstd, float[] var, double eps, int c) {
        channel("invstd", c, "invstd", invstd);
        channel("invstd", c, "var", var);
        for (int ch = 0; ch < c; ch++) {
            invstd[ch] = invstd(var[ch], eps);
        }
    }

    /** {@code 1/sqrt(var + eps)} rounded to float: the per-channel factor of every path. */
    static float invstd(double var, double eps) {
        return (float) (1 / Math.sqrt(var + eps));
    }

    /** {@code a = invstd*gamma} (gamma 1 when null): the output's factor, and the input gradient's. */
    static float scale(float is, float[] gamma, int ch) {
        return is * (gamma == null ? 1f : gamma[ch]);
    }

    /** {@code b = beta - mean*a} (beta 0 when null): the output's offset. */
    static float shift(float[] beta, int ch, float m, float a) {
        return (beta == null ? 0f : beta[ch]) - m * a;
    }

    /** {@code k = sum(gy*(x - mean))/count * invstd^2}: the factor of {@code (x - mean)} in the input gradient. */
    static float centerFactor(double sd, long count, float is) {
        return (float) (sd / count * is * is);
    }

    /** {@code [N, C]} inputs run across the channels ({@link BatchNormCols}): a row of one float per channel is no row to vectorize. */
    private static boolean acrossChannels(int s) {
        return s == 1 && !Simd.SCALAR;
    }

    private static int grain(int n, int s) {
        long perChannel = Math.max(1L, (long) n * s);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, GRAIN_VALUES / perChannel));
    }

    private static void check(String kernel, float[] a, float[] x, float[] b, int n, int c, int s) {
        String k = "BatchNorm." + kernel;
        if (n < 0 || c < 0 || s < 0) {
            throw new IllegalArgumentException(k + ": expected n, c, s >= 0, got n " + n + ", c " + c + ", s " + s);
        }
        SliceArgs.slab(k, kernel.equals("backward") ? "gy" : "y", a.length, 0, n, c, s);
        SliceArgs.slab(k, "x", x.length, 0, n, c, s);
        if (b != null) {
            SliceArgs.slab(k, "gx", b.length, 0, n, c, s);
        }
    }

    private static void affineArgs(String kernel, int c, float[] gamma, float[] beta) {
        if (gamma != null) {
            channel(kernel, c, "gamma", gamma);
        }
        if (beta != null) {
            channel(kernel, c, "beta", beta);
        }
    }

    /** A per-channel array must hold at least c values. */
    private static void channel(String kernel, int c, String name, float[] a) {
        if (a.length < c) {
            throw new IllegalArgumentException("BatchNorm." + kernel + ": expected " + name + " of at least " + c
                    + " values (one per channel), got " + a.length);
        }
    }
}
