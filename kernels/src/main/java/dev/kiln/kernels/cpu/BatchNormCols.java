package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BatchNorm} for {@code [N, C]} inputs ({@code s = 1}): each channel's values are one float per
 * row, so the loops run across the channels, a vector of {@code L} channels at a time (the last
 * {@code C mod L} channel by channel), over the rows in order. Per channel the same arithmetic as
 * {@link BatchNorm}'s row loops (sums in double, two passes, {@code y = x*a + b}), the same order
 * whatever the thread count (blocks of channels are split over {@link Parallel}). Arguments are
 * checked by {@link BatchNorm}.
 */
final class BatchNormCols {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    private static final int H = L / 2;
    /** Values per task: blocks of channels go to other threads only past this many. */
    private static final int GRAIN_VALUES = 16384;

    private BatchNormCols() {
    }

    private static void blocks(int n, int c, Block body) {
        int blocks = Math.ceilDiv(c, L);
        int grain = (int) Math.max(1, GRAIN_VALUES / Math.max(1L, (long) n * L));
        Parallel.forRange(blocks, grain, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                int c0 = b * L;
                body.run(c0, Math.min(c, c0 + L));
            }
        });
    }

    private interface Block {
        void run(int c0, int c1);
    }

    static void forwardTraining(float[] y, float[] mean, float[] var, float[] invstd, float[] x, float[] gamma,
                                float[] beta, double eps, int n, int c) {
        blocks(n, c, (c0, c1) -> {
            if (c1 - c0 == L) {
                DoubleVector s0 = DoubleVector.zero(Simd.D);
                DoubleVector s1 = s0;
                for (int i = 0, o = c0; i < n; i++, o += c) {
                    s0 = s0.add(RowLoops.widen(x, o));
                    s1 = s1.add(RowLoops.widen(x, o + H));
                }
                DoubleVector m0 = s0.div(n);
                DoubleVector m1 = s1.div(n);
                DoubleVector q0 = DoubleVector.zero(Simd.D);
                DoubleVector q1 = q0;
                for (int i = 0, o = c0; i < n; i++, o += c) {
                    DoubleVector d0 = RowLoops.widen(x, o).sub(m0);
                    DoubleVector d1 = RowLoops.widen(x, o + H).sub(m1);
                    q0 = d0.fma(d0, q0);
                    q1 = d1.fma(d1, q1);
                }
                for (int k = 0; k < H; k++) {
                    stats(mean, var, invstd, c0 + k, m0.lane(k), q0.lane(k) / n, eps);
                    stats(mean, var, invstd, c0 + H + k, m1.lane(k), q1.lane(k) / n, eps);
                }
            } else {
                for (int ch = c0; ch < c1; ch++) {
                    double s = 0;
                    for (int i = 0; i < n; i++) {
                        s += x[i * c + ch];
                    }
                    double m = s / n;
                    double q = 0;
                    for (int i = 0; i < n; i++) {
                        double d = x[i * c + ch] - m;
                        q = Math.fma(d, d, q);
                    }
                    stats(mean, var, invstd, ch, m, q / n, eps);
                }
            }
            affine(y, x, mean, invstd, gamma, beta, n, c, c0, c1);
        });
    }

    private static void stats(float[] mean, float[] var, float[] invstd, int ch, double m, double v, double eps) {
        mean[ch] = (float) m;
        var[ch] = (float) v;
        invstd[ch] = BatchNorm.invstd(v, eps);
    }

    static void forward(float[] y, float[] x, float[] mean, float[] invstd, float[] gamma, float[] beta, int n, int c) {
        blocks(n, c, (c0, c1) -> affine(y, x, mean, invstd, gamma, beta, n, c, c0, c1));
    }

    /** {@code y = x*a + b} over channels {@code [c0, c1)}, {@code a = invstd*gamma}, {@code b = beta - mean*a}. */
    private static void affine(float[] y, float[] x, float[] mean, float[] invstd, float[] gamma, float[] beta, int n, int c,
                               int c0, int c1) {
        float[] a = new float[L];
        float[] b = new float[L];
        for (int ch = c0; ch < c1; ch++) {
            a[ch - c0] = BatchNorm.scale(invstd[ch], gamma, ch);
            b[ch - c0] = BatchNorm.shift(beta, ch, mean[ch], a[ch - c0]);
        }
        if (c1 - c0 == L) {
            FloatVector av = FloatVector.fromArray(F, a, 0);
            FloatVector bv = FloatVector.fromArray(F, b, 0);
            for (int i = 0, o = c0; i < n; i++, o += c) {
                FloatVector.fromArray(F, x, o).fma(av, bv).intoArray(y, o);
            }
        } else {
            for (int i = 0; i < n; i++) {
                for (int ch = c0; ch < c1; ch++) {
                    y[i * c + ch] = Math.fma(x[i * c + ch], a[ch - c0], b[ch - c0]);
                }
            }
        }
    }

    static void backward(float[] gx, float[] gGamma, float[] gBeta, float[] gy, float[] x, float[] mean, float[] invstd,
                         float[] gamma, boolean batchStats, int n, int c) {
        blocks(n, c, (c0, c1) -> {
            double[] sg = new double[L];
            double[] sd = new double[L];
            if (c1 - c0 == L) {
                DoubleVector m0 = RowLoops.widen(mean, c0);
                DoubleVector m1 = RowLoops.widen(mean, c0 + H);
                DoubleVector g0 = DoubleVector.zero(Simd.D);
                DoubleVector g1 = g0;
                DoubleVector d0 = g0;
                DoubleVector d1 = g0;
                for (int i = 0, o = c0; i < n; i++, o += c) {
                    DoubleVector y0 = RowLoops.widen(gy, o);
                    DoubleVector y1 = RowLoops.widen(gy, o + H);
                    g0 = g0.add(y0);
                    g1 = g1.add(y1);
                    d0 = RowLoops.widen(x, o).sub(m0).fma(y0, d0);
                    d1 = RowLoops.widen(x, o + H).sub(m1).fma(y1, d1);
                }
                g0.intoArray(sg, 0);
                g1.intoArray(sg, H);
                d0.intoArray(sd, 0);
                d1.intoArray(sd, H);
            } else {
                for (int ch = c0; ch < c1; ch++) {
                    double g = 0;
                    double d = 0;
                    double m = mean[ch];
                    for (int i = 0; i < n; i++) {
                        g += gy[i * c + ch];
                        d = Math.fma(x[i * c + ch] - m, gy[i * c + ch], d);
                    }
                    sg[ch - c0] = g;
                    sd[ch - c0] = d;
                }
            }
            for (int ch = c0; ch < c1; ch++) {
                if (gGamma != null) {
                    gGamma[ch] = (float) (sd[ch - c0] * invstd[ch]);
                }
                if (gBeta != null) {
                    gBeta[ch] = (float) sg[ch - c0];
                }
            }
            if (gx != null) {
                inputGradient(gx, gy, x, mean, invstd, gamma, batchStats, n, c, c0, c1, sg, sd);
            }
        });
    }

    /** {@code gx = (gy - gm - (x - mean)*k)*scale} (batch statistics) or {@code gx = gy*scale} over channels {@code [c0, c1)}. */
    private static void inputGradient(float[] gx, float[] gy, float[] x, float[] mean, float[] invstd, float[] gamma,
                                      boolean batchStats, int n, int c, int c0, int c1, double[] sg, double[] sd) {
        float[] gm = new float[L];
        float[] nk = new float[L];
        float[] scale = new float[L];
        for (int ch = c0; ch < c1; ch++) {
            float is = invstd[ch];
            scale[ch - c0] = BatchNorm.scale(is, gamma, ch);
            gm[ch - c0] = batchStats ? (float) (sg[ch - c0] / n) : 0f;
            nk[ch - c0] = batchStats ? -BatchNorm.centerFactor(sd[ch - c0], n, is) : 0f;
        }
        if (c1 - c0 == L) {
            FloatVector mv = FloatVector.fromArray(F, mean, c0);
            FloatVector gmv = FloatVector.fromArray(F, gm, 0);
            FloatVector nkv = FloatVector.fromArray(F, nk, 0);
            FloatVector sv = FloatVector.fromArray(F, scale, 0);
            for (int i = 0, o = c0; i < n; i++, o += c) {
                FloatVector g = FloatVector.fromArray(F, gy, o);
                if (batchStats) {
                    g = FloatVector.fromArray(F, x, o).sub(mv).fma(nkv, g.sub(gmv));
                }
                g.mul(sv).intoArray(gx, o);
            }
        } else {
            for (int i = 0; i < n; i++) {
                for (int ch = c0; ch < c1; ch++) {
                    int at = i * c + ch;
                    float g = batchStats ? Math.fma(x[at] - mean[ch], nk[ch - c0], gy[at] - gm[ch - c0]) : gy[at];
                    gx[at] = g * scale[ch - c0];
                }
            }
        }
    }
}
