package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Float-to-8-bit quantization and PyTorch's min/max parameter choice, behind {@link QGemm}. */
final class QGemmQuant {
    private static final boolean VECTOR = QGemmEpilogue.VECTOR;
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Byte> BQ =
            VECTOR ? VectorSpecies.of(byte.class, VectorShape.forBitSize(Simd.BITS / 4)) : null;
    private static final int L = F.length();
    /** {@code 1.5 * 2^23}: adding and subtracting it rounds a float of magnitude < 2^22 half to even. */
    private static final float MAGIC = 12582912f;
    /** PyTorch's smallest scale (fp16's smallest normal). */
    private static final float SMALL_SCALE = 6.1e-5f;

    private QGemmQuant() {
    }

    /** {@code q[i] = clamp(rint(x[i] * (1f / scale)) + zp)}; NaN gives {@code zp}. */
    static void quantize(byte[] q, int qOff, boolean unsigned, float[] x, int xOff, int n, float scale, int zp) {
        float inv = 1f / scale;
        float lo = (unsigned ? 0 : -128) - zp;
        float hi = (unsigned ? 255 : 127) - zp;
        int bound = VECTOR ? F.loopBound(n) : 0;
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector t = FloatVector.fromArray(F, x, xOff + i).mul(inv).max(lo).min(hi).add(MAGIC).sub(MAGIC);
            ((ByteVector) ((IntVector) t.convert(VectorOperators.F2I, 0)).add(zp)
                    .convertShape(VectorOperators.I2B, BQ, 0)).intoArray(q, qOff + i);
        }
        for (; i < n; i++) {
            q[qOff + i] = (byte) ((int) Math.rint(Math.min(Math.max(x[xOff + i] * inv, lo), hi)) + zp);
        }
    }

    /** PyTorch's {@code ChooseQuantizationParams(min, max, 0, reduceRange ? 127 : 255)}. */
    static QGemm.QParams dynamicQParams(float[] x, int off, int n, boolean reduceRange) {
        float min = 0f;
        float max = 0f;
        int bound = VECTOR ? F.loopBound(n) : 0;
        int i = 0;
        if (bound > 0) {
            // four independent chains: a vector min/max with Java's NaN and -0.0 rules is several
            // instructions long, and one chain would wait on it every step
            FloatVector first = FloatVector.fromArray(F, x, off);
            FloatVector min0 = first, min1 = first, min2 = first, min3 = first;
            FloatVector max0 = first, max1 = first, max2 = first, max3 = first;
            int bound4 = L + (bound - L) / (4 * L) * (4 * L);
            for (i = L; i < bound4; i += 4 * L) {
                FloatVector v0 = FloatVector.fromArray(F, x, off + i);
                FloatVector v1 = FloatVector.fromArray(F, x, off + i + L);
                FloatVector v2 = FloatVector.fromArray(F, x, off + i + 2 * L);
                FloatVector v3 = FloatVector.fromArray(F, x, off + i + 3 * L);
                min0 = min0.min(v0);
                max0 = max0.max(v0);
                min1 = min1.min(v1);
                max1 = max1.max(v1);
                min2 = min2.min(v2);
                max2 = max2.max(v2);
                min3 = min3.min(v3);
                max3 = max3.max(v3);
            }
            for (; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, off + i);
                min0 = min0.min(v);
                max0 = max0.max(v);
            }
            min = min0.min(min1).min(min2.min(min3)).reduceLanes(VectorOperators.MIN);
            max = max0.max(max1).max(max2.max(max3)).reduceLanes(VectorOperators.MAX);
        } else if (n > 0) {
            min = x[off];
            max = x[off];
        }
        for (; i < n; i++) {
            min = Math.min(min, x[off + i]);
            max = Math.max(max, x[off + i]);
        }
        if (!Float.isFinite(min) || !Float.isFinite(max)) {
            throw new IllegalArgumentException("dynamicQParams: expected finite values, got min " + min + ", max "
                    + max + " in x[" + off + " : " + (off + n) + "]");
        }
        return choose(min, max, 0, reduceRange ? 127 : 255);
    }

    /** The arithmetic of PyTorch's {@code quant_utils::ChooseQuantizationParams}, float and double as there. */
    private static QGemm.QParams choose(float min, float max, int qmin, int qmax) {
        min = Math.min(min, 0f);
        max = Math.max(max, 0f);
        double scale = ((double) max - min) / (qmax - qmin);
        if ((float) scale == 0f || Float.isInfinite(1f / (float) scale)) {
            scale = 0.1;
        }
        if (scale < SMALL_SCALE) {
            float orgScale = (float) scale;
            scale = SMALL_SCALE;
            if (min == 0f) {
                max = SMALL_SCALE * (qmax - qmin);
            } else if (max == 0f) {
                min = -SMALL_SCALE * (qmax - qmin);
            } else {
                float amplifier = SMALL_SCALE / orgScale;
                min *= amplifier;
                max *= amplifier;
            }
        }
        double fromMin = qmin - min / scale;
        double fromMax = qmax - max / scale;
        double errorMin = Math.abs(qmin) - Math.abs(min / scale);
        double errorMax = Math.abs(qmax) - Math.abs(max / scale);
        double initial = errorMin < errorMax ? fromMin : fromMax;
        int zp = initial < qmin ? qmin : initial > qmax ? qmax : (int) Math.rint(initial);
        return new QGemm.QParams((float) scale, zp);
    }
}
