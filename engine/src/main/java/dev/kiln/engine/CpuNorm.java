package dev.kiln.engine;

import dev.kiln.kernels.cpu.BatchNorm;
import dev.kiln.kernels.ref.RefBatchNorm;

/**
 * CPU batch normalization on the fused kernels ({@link BatchNorm} for F32, {@link RefBatchNorm} for
 * F64): dense copies in, [N, C, S] layout with S the product of the dims after C.
 */
final class CpuNorm {
    private CpuNorm() {
    }

    private static int spatial(Tensor x) {
        int s = 1;
        for (int i = 2; i < x.rank(); i++) {
            s *= x.size(i);
        }
        return s;
    }

    private static Tensor dense(Tensor t) {
        return t == null ? null : CpuBackend.dense(t);
    }

    private static float[] f32(Tensor t) {
        return t == null ? null : CpuBackend.f32(t);
    }

    private static double[] f64(Tensor t) {
        return t == null ? null : CpuBackend.f64(t);
    }

    private static Tensor channels(Tensor x, int c) {
        return CpuBackend.INSTANCE.zeros(x.dtype(), new int[] {c});
    }

    /**
     * Values per channel and sample ({@code S}) from which the fused kernel walks rows; below it, but
     * for {@code S = 1} ({@code [N, C]}, which the kernel runs across the channels), the composed form
     * is used. Measured, 1 thread, min CPU time of fwd+bwd, fused row loops vs composed: [64, 256]
     * 0.25 vs 0.10 ms, [64, 1024] 1.13 vs 0.39; [64, 32, 28, 28] 1.85 vs 16.3. Across the channels
     * ({@code S = 1}): [64, 256] 0.02 vs 0.10-0.16 ms, [64, 1024] 0.14-0.15 vs 0.36-0.42.
     */
    static final int MIN_SPATIAL = 8;

    /** Whether {@link #batchNorm} runs the fused kernel for an input with {@code s} values per channel and sample. */
    static boolean fused(int s) {
        return s == 1 || s >= MIN_SPATIAL;
    }

    /**
     * See {@link Backend#batchNorm}, and {@link Backend#batchNormRelu} with {@code relu} (F32 only):
     * null (the composed form, or the ReLU apart) where not {@link #fused}.
     */
    static Tensor[] batchNorm(Tensor x, Tensor runMean, Tensor runVar, Tensor weight, Tensor bias, double eps,
                              boolean relu) {
        if (!fused(spatial(x)) || relu && x.dtype() != DType.F32) {
            return null;
        }
        Tensor xd = dense(x);
        Tensor wd = dense(weight);
        Tensor bd = dense(bias);
        int n = x.size(0);
        int c = x.size(1);
        int s = spatial(x);
        Tensor y = CpuBackend.INSTANCE.zeros(x.dtype(), x.shapeRef());
        Tensor invstd = channels(x, c);
        boolean f32 = x.dtype() == DType.F32;
        if (runMean == null) {
            Tensor mean = channels(x, c);
            Tensor var = channels(x, c);
            if (f32) {
                BatchNorm.forwardTraining(f32(y), f32(mean), f32(var), f32(invstd), f32(xd), f32(wd), f32(bd), eps, n, c, s,
                        relu);
            } else {
                RefBatchNorm.forwardTraining(f64(y), f64(mean), f64(var), f64(invstd), f64(xd), f64(wd), f64(bd), eps, n, c, s);
            }
            return new Tensor[] {y, mean, invstd, var};
        }
        Tensor mean = CpuBackend.INSTANCE.contiguous(runMean); // a copy: the backward pass needs this step's values
        Tensor vd = dense(runVar);
        if (f32) {
            BatchNorm.invstd(f32(invstd), f32(vd), eps, c);
            BatchNorm.forward(f32(y), f32(xd), f32(mean), f32(invstd), f32(wd), f32(bd), n, c, s, relu);
        } else {
            RefBatchNorm.invstd(f64(invstd), f64(vd), eps, c);
            RefBatchNorm.forward(f64(y), f64(xd), f64(mean), f64(invstd), f64(wd), f64(bd), n, c, s);
        }
        return new Tensor[] {y, mean, invstd};
    }

    /**
     * See {@link Backend#batchNormBackward}, and {@link Backend#batchNormReluBackward} given the fused
     * forward's output {@code reluY} (F32; null for none).
     */
    static Tensor[] batchNormBackward(Tensor gy, Tensor x, Tensor mean, Tensor invstd, Tensor weight, boolean batchStats,
                                      boolean[] needs, Tensor reluY) {
        Tensor gyd = dense(gy);
        Tensor xd = dense(x);
        Tensor md = dense(mean);
        Tensor id = dense(invstd);
        Tensor wd = dense(weight);
        int n = x.size(0);
        int c = x.size(1);
        int s = spatial(x);
        Tensor gx = needs[0] ? CpuBackend.INSTANCE.zeros(x.dtype(), x.shapeRef()) : null;
        Tensor gw = needs[1] ? channels(x, c) : null;
        Tensor gb = needs[2] ? channels(x, c) : null;
        if (x.dtype() == DType.F32) {
            BatchNorm.backward(f32(gx), f32(gw), f32(gb), f32(gyd), f32(xd), f32(md), f32(id), f32(wd), batchStats, n, c, s,
                    f32(dense(reluY)));
        } else {
            RefBatchNorm.backward(f64(gx), f64(gw), f64(gb), f64(gyd), f64(xd), f64(md), f64(id), f64(wd), batchStats, n, c, s);
        }
        return new Tensor[] {gx, gw, gb};
    }
}
