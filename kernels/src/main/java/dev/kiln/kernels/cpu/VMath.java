package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.OR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * exp, log, tanh and sigmoid in fp32, for vectors and for single floats, that give the same bits
 * everywhere: interpreted or JIT-compiled, vector lane or scalar tail. The Vector API's own
 * {@code lanewise(EXP)} does not: compiled, it calls the platform's vector math library, interpreted
 * it calls {@link Math#exp} per lane, and the two differ in the last bit. These are built only from
 * exactly rounded operations (add, mul, fma, div, min/max, compare/blend, integer bit operations),
 * and each scalar method is its vector twin step by step, with {@link Math#fma}.
 *
 * <p>exp: {@code x = n ln2 + r}, {@code |r| <= ln2/2}, {@code e^r = 1 + r + r^2 P(r)} (the degree-5
 * P of Cephes' expf, all by Horner), times {@code 2^n}: in one step on the short path, in two
 * otherwise, so subnormal results round once. log: {@code x = 2^k m}, {@code sqrt(1/2) <= m < sqrt 2},
 * {@code log m} by Cephes' degree-9 logf polynomial in {@code m - 1}. tanh: Cephes' odd polynomial
 * below 0.625, {@code (1 - e)/(1 + e)}, {@code e = exp(-2|x|)}, above. sigmoid: {@code 1/(1 + e)} or
 * {@code e/(1 + e)}, {@code e = exp(-|x|)}. Measured against double on tens of millions of floats
 * (every 7th float of exp's and log's working ranges, every 103rd of all floats): exp within 0.89
 * ulp, log 0.82 ulp, tanh 1.5 ulp, sigmoid 2.4 ulp, with IEEE special values (infinities, NaN,
 * signed zeros, subnormal inputs and results).
 *
 * <p>Speed: constants are broadcast where they are used (C2 hoists those out of loops; a
 * {@code static final} vector constant is reloaded on every use). exp and log take a short path when
 * every lane is an ordinary argument and the full one otherwise, with the same bits either way.
 * Inlining: C2 stops inlining ordinary methods once a compilation holds about 18000 IR nodes (each
 * Vector API operation costs a few hundred while it is parsed), and a vector method it does not
 * inline boxes its vectors, many times slower. So these call other methods only near their start,
 * and loops should call them early in their body, ideally one per loop.
 */
final class VMath {
    private static final float LOG2E = 1.44269504088896341f;
    /**
     * 1.5 * 2^23 + 127: adding it rounds a float of magnitude below 2^22 to an integer n, leaving
     * {@code n + 127} in its low bits, which shifted left by 23 are the bits of 2^n.
     */
    private static final float MAGIC_EXP = 12583039f;
    private static final int MAGIC_EXP_BITS = 0x4b40007f;
    /** Below this magnitude e^x is normal and 2^n needs one step. */
    private static final float EXP_FAST = 87.3f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** exp(x) rounds to 0 below this and overflows above the other bound, so clamping changes nothing. */
    private static final float EXP_LO = -104f;
    private static final float EXP_HI = 89f;
    private static final float E0 = 5.0000001201e-1f;
    private static final float E1 = 1.6666665459e-1f;
    private static final float E2 = 4.1665795894e-2f;
    private static final float E3 = 8.3334519073e-3f;
    private static final float E4 = 1.3981999507e-3f;
    private static final float E5 = 1.9875691500e-4f;
    /** Bits of 1 minus bits of sqrt(1/2): moves mantissas at or above sqrt(1/2) into the next binade. */
    private static final int LOG_SHIFT = 0x3f800000 - 0x3f3504f3;
    private static final int SQRT_HALF_BITS = 0x3f3504f3;
    private static final float TWO_23 = 8388608f;
    private static final float L0 = 3.3333331174e-1f;
    private static final float L1 = -2.4999993993e-1f;
    private static final float L2 = 2.0000714765e-1f;
    private static final float L3 = -1.6668057665e-1f;
    private static final float L4 = 1.4249322787e-1f;
    private static final float L5 = -1.2420140846e-1f;
    private static final float L6 = 1.1676998740e-1f;
    private static final float L7 = -1.1514610310e-1f;
    private static final float L8 = 7.0376836292e-2f;
    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -3.33332819422e-1f;
    private static final float T1 = 1.33314422036e-1f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T3 = 2.06390887954e-2f;
    private static final float T4 = -5.70498872745e-3f;
    private static final int SIGN = 0x80000000;

    private VMath() {
    }

    /** e^x for every lane. */
    static FloatVector exp(FloatVector x) {
        if (!x.abs().compare(LE, EXP_FAST).allTrue()) {
            return expWide(x);
        }
        FloatVector t = x.fma(LOG2E, MAGIC_EXP);
        FloatVector n = t.sub(MAGIC_EXP);
        FloatVector r = n.fma(x.broadcast(-LN2_HI), x);
        r = n.fma(x.broadcast(-LN2_LO), r);
        FloatVector one = x.broadcast(1f);
        FloatVector e = r.fma(E5, E4).fma(r, x.broadcast(E3)).fma(r, x.broadcast(E2)).fma(r, x.broadcast(E1))
                .fma(r, x.broadcast(E0)).fma(r, one).fma(r, one);
        return e.mul(t.reinterpretAsInts().lanewise(LSHL, 23).reinterpretAsFloats());
    }

    /**
     * {@link #exp(FloatVector)} for lanes of any value: x clamped (NaN kept), 2^n applied in two
     * steps. Where the fast path applies this gives its bits: the first step is exact. The
     * polynomial {@code 1 + r + r^2 P(r)} runs by Horner in both.
     */
    private static FloatVector expWide(FloatVector x) {
        FloatVector xc = x.blend(EXP_LO, x.compare(LT, EXP_LO));
        xc = xc.blend(EXP_HI, xc.compare(GT, EXP_HI));
        FloatVector t = xc.fma(LOG2E, MAGIC_EXP);
        FloatVector n = t.sub(MAGIC_EXP);
        FloatVector r = n.fma(x.broadcast(-LN2_HI), xc);
        r = n.fma(x.broadcast(-LN2_LO), r);
        IntVector k = t.reinterpretAsInts().sub(MAGIC_EXP_BITS);
        IntVector k1 = k.lanewise(ASHR, 1);
        FloatVector s1 = k1.add(127).lanewise(LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k.sub(k1).add(127).lanewise(LSHL, 23).reinterpretAsFloats();
        FloatVector one = x.broadcast(1f);
        FloatVector e = r.fma(E5, E4).fma(r, x.broadcast(E3)).fma(r, x.broadcast(E2)).fma(r, x.broadcast(E1))
                .fma(r, x.broadcast(E0)).fma(r, one).fma(r, one);
        return e.mul(s1).mul(s2);
    }

    /** e^x, the same bits as a lane of {@link #exp(FloatVector)}. */
    static float exp(float x) {
        float xc = x < EXP_LO ? EXP_LO : x;
        xc = xc > EXP_HI ? EXP_HI : xc;
        float t = Math.fma(xc, LOG2E, MAGIC_EXP);
        float n = t - MAGIC_EXP;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float e = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E5, E4), r, E3), r, E2), r, E1),
                r, E0), r, 1f), r, 1f);
        int k = Float.floatToRawIntBits(t) - MAGIC_EXP_BITS;
        int k1 = k >> 1;
        return e * Float.intBitsToFloat(k1 + 127 << 23) * Float.intBitsToFloat(k - k1 + 127 << 23);
    }

    /** Natural log for every lane: -inf at +-0, NaN below 0. */
    static FloatVector log(FloatVector x) {
        if (!x.compare(GE, Float.MIN_NORMAL).and(x.compare(LE, Float.MAX_VALUE)).allTrue()) {
            return logWide(x);
        }
        return logCore(x, x.broadcast(127f));
    }

    /**
     * {@link #log(FloatVector)} for lanes of any value: subnormals scaled by 2^23 first, then the
     * special values. Where the fast path applies this gives its bits.
     */
    private static FloatVector logWide(FloatVector x) {
        VectorMask<Float> sub = x.compare(LT, Float.MIN_NORMAL);
        FloatVector r = logCore(x.blend(x.mul(TWO_23), sub), x.broadcast(127f).blend(150f, sub));
        return r.blend(x, x.compare(EQ, Float.POSITIVE_INFINITY))
                .blend(Float.NEGATIVE_INFINITY, x.compare(EQ, 0f))
                .blend(Float.NaN, x.compare(GE, 0f).not());
    }

    /** log(x * 2^(127 - bias)) for normal positive lanes: {@code x = 2^k m}, Cephes' polynomial in m - 1. */
    private static FloatVector logCore(FloatVector x, FloatVector bias) {
        IntVector ix = x.reinterpretAsInts().add(LOG_SHIFT);
        FloatVector f = ix.and(0x007fffff).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
        FloatVector e = ((FloatVector) ix.lanewise(LSHR, 23).convert(I2F, 0)).sub(bias);
        FloatVector z = f.mul(f);
        FloatVector p = f.fma(L8, L7).fma(f, f.broadcast(L6)).fma(f, f.broadcast(L5)).fma(f, f.broadcast(L4))
                .fma(f, f.broadcast(L3)).fma(f, f.broadcast(L2)).fma(f, f.broadcast(L1)).fma(f, f.broadcast(L0));
        FloatVector y = e.fma(f.broadcast(LN2_LO), f.mul(z).mul(p));
        y = z.fma(f.broadcast(-0.5f), y);
        return e.fma(f.broadcast(LN2_HI), f.add(y));
    }

    /** Natural log, the same bits as a lane of {@link #log(FloatVector)}. */
    static float log(float x) {
        boolean sub = x < Float.MIN_NORMAL;
        int ix = Float.floatToRawIntBits(sub ? x * TWO_23 : x) + LOG_SHIFT;
        float f = Float.intBitsToFloat((ix & 0x007fffff) + SQRT_HALF_BITS) - 1f;
        float e = (float) (ix >>> 23) - (sub ? 150f : 127f);
        float z = f * f;
        float p = Math.fma(f, L8, L7);
        p = Math.fma(p, f, L6);
        p = Math.fma(p, f, L5);
        p = Math.fma(p, f, L4);
        p = Math.fma(p, f, L3);
        p = Math.fma(p, f, L2);
        p = Math.fma(p, f, L1);
        p = Math.fma(p, f, L0);
        float y = Math.fma(e, LN2_LO, f * z * p);
        y = Math.fma(z, -0.5f, y);
        float r = Math.fma(e, LN2_HI, f + y);
        if (x == Float.POSITIVE_INFINITY) {
            return x;
        }
        if (x == 0f) {
            return Float.NEGATIVE_INFINITY;
        }
        return x >= 0f ? r : Float.NaN;
    }

    /** tanh for every lane (odd: -0 stays -0). */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.mul(-2f));
        FloatVector one = x.broadcast(1f);
        FloatVector big = one.sub(e).div(e.add(one));
        FloatVector z = a.mul(a);
        FloatVector p = z.fma(T4, T3).fma(z, z.broadcast(T2)).fma(z, z.broadcast(T1)).fma(z, z.broadcast(T0));
        FloatVector y = big.blend(p.mul(z).fma(a, a), a.compare(LT, TANH_SMALL));
        return y.reinterpretAsInts().lanewise(OR, x.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
    }

    /** tanh, the same bits as a lane of {@link #tanh(FloatVector)}. */
    static float tanh(float x) {
        float a = Math.abs(x);
        float e = exp(a * -2f);
        float big = (1f - e) / (e + 1f);
        float z = a * a;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(z, T4, T3), z, T2), z, T1), z, T0);
        float y = a < TANH_SMALL ? Math.fma(p * z, a, a) : big;
        return Float.intBitsToFloat(Float.floatToRawIntBits(y) | Float.floatToRawIntBits(x) & SIGN);
    }

    /** 1 / (1 + e^-x) for every lane, without overflow: e^x / (1 + e^x) for x below 0. */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector one = x.broadcast(1f);
        return one.blend(e, x.compare(LT, 0f)).div(e.add(one));
    }

    /** Sigmoid, the same bits as a lane of {@link #sigmoid(FloatVector)}. */
    static float sigmoid(float x) {
        float e = exp(-Math.abs(x));
        return (x < 0f ? e : 1f) / (e + 1f);
    }
}
