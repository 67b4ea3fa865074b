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
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);
    private static final VectorSpecies<Integer> I = Simd.I;
    /** PyTorch's smallest scale (fp16's smallest normal). */
    private static final float SMALL_SCALE = 6.1e-5f;

    private QGemmQuant() {
    }

    /**
     * {@code q[i] = clamp(rint(x[i] * (1f / scale)) + zp)}; NaN gives {@code zp}.
     * The vector loop rounds by adding {@link #MAGIC} and reads the sum's bits: for a product
     * {@code v}, {@code bits(v + MAGIC) - bits(MAGIC)} is {@code rint(v)} while {@code |v| < 2^22},
     * and the bits of every float at or above zero are in the order of their values, while those
     * of negative sums are negative ints: so clamping the bits with integer min/max to the bits of
     * the range's ends saturates every product, infinities too. This avoids Java's float min/max
     * and float-to-int conversion, whose NaN rules cost AVX2 several instructions each (21 -> 10 us
     * for 64K floats on Zen 3).
     */
    static void quantize(byte[] q, int qOff, boolean unsigned, float[] x, int xOff, int n, float scale, int zp) {
        float inv = 1f / scale;
        int qmin = unsigned ? 0 : -128;
        int qmax = unsigned ? 255 : 127;
        int bound = VECTOR ? F.loopBound(n) : 0;
        int i = 0;
        if (bound > 0) {
            int lo = MAGIC_BITS + qmin - zp;
            int hi = MAGIC_BITS + qmax - zp;
            int shift = zp - MAGIC_BITS;
            IntVector nan = IntVector.broadcast(I, MAGIC_BITS);
            for (; i < bound; i += L) {
                FloatVector t = FloatVector.fromArray(F, x, xOff + i).mul(inv);
                IntVector bits = ((IntVector) t.add(MAGIC).reinterpretShape(I, 0))
                        .blend(nan, t.test(VectorOperators.IS_NAN).cast(I));
                ((ByteVector) bits.max(lo).min(hi).add(shift).convertShape(VectorOperators.I2B, BQ, 0))
                        .intoArray(q, qOff + i);
            }
        }
        float flo = qmin - zp;
        float fhi = qmax - zp;
        for (; i < n; i++) {
            q[qOff + i] = (byte) ((int) Math.rint(Math.min(Math.max(x[xOff + i] * inv, flo), fhi)) + zp);
        }
    }

    /**
     * A float's bits as an int whose signed order is the floats' total order (that of
     * {@link Float#compare}): negative floats' magnitude bits flipped.
     */
    private static IntVector key(FloatVector v) {
        IntVector bits = (IntVector) v.reinterpretShape(I, 0);
        return bits.lanewise(VectorOperators.XOR, bits.lanewise(VectorOperators.ASHR, 31).and(Integer.MAX_VALUE));
    }

    /** The float whose {@link #key} is {@code k}. */
    private static float unkey(int k) {
        return Float.intBitsToFloat(k ^ (k >> 31 & Integer.MAX_VALUE));
    }

    /** PyTorch's {@code ChooseQuantizationParams(min, max, 0, reduceRange ? 127 : 255)}. */
    static QGemm.QParams dynamicQParams(float[] x, int off, int n, boolean reduceRange) {
        float min = 0f;
        float max = 0f;
        int bound = VECTOR ? F.loopBound(n) : 0;
        int i = 0;
        if (bound > 0) {
            // min/max of order keys (see key): one integer instruction each, where a vector float
            // min/max with Java's NaN and -0.0 rules takes several (8.6 -> 3.9 us for 64K floats on
            // Zen 3); a NaN's key lies past an infinity's, so it comes out as the min or max
            IntVector first = key(FloatVector.fromArray(F, x, off));
            IntVector min0 = first, min1 = first, max0 = first, max1 = first;
            int bound2 = L + (bound - L) / (2 * L) * (2 * L);
            for (i = L; i < bound2; i += 2 * L) {
                IntVector v0 = key(FloatVector.fromArray(F, x, off + i));
                IntVector v1 = key(FloatVector.fromArray(F, x, off + i + L));
                min0 = min0.min(v0);
                max0 = max0.max(v0);
                min1 = min1.min(v1);
                max1 = max1.max(v1);
            }
            for (; i < bound; i += L) {
                IntVector v = key(FloatVector.fromArray(F, x, off + i));
                min0 = min0.min(v);
                max0 = max0.max(v);
            }
            min = unkey(min0.min(min1).reduceLanes(VectorOperators.MIN));
            max = unkey(max0.max(max1).reduceLanes(VectorOperators.MAX));
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
