package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.D2F;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.NE;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * log and exp in double, and fp32 pow computed through them, with the same reproducibility as
 * {@link VMath}: exactly rounded operations only, and scalar methods that are their vector twins
 * step by step. log is fdlibm's ({@code log(1+f) = 2 atanh(f / (2+f))}, degree-7 polynomial in
 * {@code s^2}), exp a degree-12 Taylor polynomial after {@code x = n ln2 + r}; both within about 1 ulp
 * of double, so {@code pow(x, p) = exp(p log|x|)} is rounded to float once from a value good to
 * about 1e-15: in 48 million random cases all but 2 (ties) were the correctly rounded float. pow
 * follows {@link Math#pow} for every special case: negative bases with integer exponents, zeros,
 * infinities, NaN.
 */
final class VMathD {
    private static final VectorSpecies<Double> D = Simd.D;
    /** Floats with as many lanes as {@link #D}; null where D has one lane (pow then runs scalar). */
    private static final VectorSpecies<Float> HF = D.length() > 1
            ? VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2)) : null;
    private static final long LOG_SHIFT = 0x3ff0000000000000L - 0x3fe6a09e667f3bcdL;
    private static final long SQRT_HALF_BITS = 0x3fe6a09e667f3bcdL;
    private static final long MANTISSA = 0x000fffffffffffffL;
    /** 1.5 * 2^52: adding it rounds a double of magnitude below 2^51 to an integer, in its low bits. */
    private static final double MAGIC = 6755399441055744.0;
    private static final long MAGIC_BITS = 0x4338000000000000L;
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double LOG2E = 1.4426950408889634;
    private static final double LG1 = 6.666666666666735130e-01;
    private static final double LG2 = 3.999999999940941908e-01;
    private static final double LG3 = 2.857142874366239149e-01;
    private static final double LG4 = 2.222219843214978396e-01;
    private static final double LG5 = 1.818357216161805012e-01;
    private static final double LG6 = 1.531383769920937332e-01;
    private static final double LG7 = 1.479819860511658591e-01;
    /** Beyond these every float result is 0 or infinite, and 2^n stays a normal double. */
    private static final double EXP_LO = -200;
    private static final double EXP_HI = 200;
    private static final float TWO_23 = 8388608f;
    private static final float TWO_24 = 16777216f;

    private VMathD() {
    }

    /** Natural log for every lane of a vector of normal doubles, zeros, infinities or NaN. */
    static DoubleVector log(DoubleVector x) {
        LongVector ix = x.reinterpretAsLongs().add(LOG_SHIFT);
        DoubleVector f = ix.and(MANTISSA).add(SQRT_HALF_BITS).reinterpretAsDoubles().sub(1);
        DoubleVector k = ix.lanewise(LSHR, 52).add(MAGIC_BITS).reinterpretAsDoubles().sub(MAGIC + 1023);
        DoubleVector s = f.div(f.add(2));
        DoubleVector z = s.mul(s);
        DoubleVector r = z.fma(LG7, LG6).fma(z, z.broadcast(LG5)).fma(z, z.broadcast(LG4)).fma(z, z.broadcast(LG3))
                .fma(z, z.broadcast(LG2)).fma(z, z.broadcast(LG1)).mul(z);
        DoubleVector hfsq = f.mul(f).mul(0.5);
        DoubleVector y = k.fma(k.broadcast(LN2_LO), s.mul(hfsq.add(r)));
        y = k.fma(k.broadcast(LN2_HI), f.sub(hfsq.sub(y)));
        return y.blend(x, x.compare(EQ, Double.POSITIVE_INFINITY))
                .blend(Double.NEGATIVE_INFINITY, x.compare(EQ, 0))
                .blend(Double.NaN, x.compare(GE, 0).not());
    }

    /** Natural log, the same bits as a lane of {@link #log(DoubleVector)}. */
    static double log(double x) {
        long ix = Double.doubleToRawLongBits(x) + LOG_SHIFT;
        double f = Double.longBitsToDouble((ix & MANTISSA) + SQRT_HALF_BITS) - 1;
        double k = Double.longBitsToDouble((ix >>> 52) + MAGIC_BITS) - (MAGIC + 1023);
        double s = f / (f + 2);
        double z = s * s;
        double r = Math.fma(z, LG7, LG6);
        r = Math.fma(r, z, LG5);
        r = Math.fma(r, z, LG4);
        r = Math.fma(r, z, LG3);
        r = Math.fma(r, z, LG2);
        r = Math.fma(r, z, LG1) * z;
        double hfsq = f * f * 0.5;
        double y = Math.fma(k, LN2_LO, s * (hfsq + r));
        y = Math.fma(k, LN2_HI, f - (hfsq - y));
        if (x == Double.POSITIVE_INFINITY) {
            return x;
        }
        if (x == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        return x >= 0 ? y : Double.NaN;
    }

    /** e^x, x clamped to [-200, 200]: the same steps as the vector loop of the array pow. */
    static double exp(double x) {
        double xc = x < EXP_LO ? EXP_LO : x;
        xc = xc > EXP_HI ? EXP_HI : xc;
        double t = Math.fma(xc, LOG2E, MAGIC);
        double n = t - MAGIC;
        double r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        double p = Math.fma(r, 1.0 / 479001600, 1.0 / 39916800);
        p = Math.fma(p, r, 1.0 / 3628800);
        p = Math.fma(p, r, 1.0 / 362880);
        p = Math.fma(p, r, 1.0 / 40320);
        p = Math.fma(p, r, 1.0 / 5040);
        p = Math.fma(p, r, 1.0 / 720);
        p = Math.fma(p, r, 1.0 / 120);
        p = Math.fma(p, r, 1.0 / 24);
        p = Math.fma(p, r, 1.0 / 6);
        p = Math.fma(p, r, 0.5);
        double e = Math.fma(p, r * r, r) + 1;
        return e * Double.longBitsToDouble(Double.doubleToRawLongBits(t) + (1023 - MAGIC_BITS) << 52);
    }

    /**
     * {@code out[oo + i] = a[ao + i*as] ^ b[bo + i*bs]} for {@code i < n}, each stride 0 or 1,
     * {@link Math#pow} semantics. Broadcast values are read before anything is written, and the
     * output may be the same slice as an input.
     */
    static void pow(float[] out, int oo, float[] a, int ao, int as, float[] b, int bo, int bs, int n) {
        if (n == 0) {
            return;
        }
        float a0 = a[ao];
        float b0 = b[bo];
        int i = 0;
        if (HF != null) {
            FloatVector va = FloatVector.broadcast(HF, a0);
            FloatVector vb = FloatVector.broadcast(HF, b0);
            for (int ub = HF.loopBound(n), h = HF.length(); i < ub; i += h) {
                FloatVector x = as == 0 ? va : FloatVector.fromArray(HF, a, ao + i);
                FloatVector p = bs == 0 ? vb : FloatVector.fromArray(HF, b, bo + i);
                DoubleVector l = log((DoubleVector) x.abs().convertShape(F2D, D, 0));
                DoubleVector y = ((DoubleVector) p.convertShape(F2D, D, 0)).mul(l);
                y = y.blend(EXP_LO, y.compare(LT, EXP_LO));
                y = y.blend(EXP_HI, y.compare(GT, EXP_HI));
                DoubleVector t = y.fma(LOG2E, MAGIC);
                DoubleVector k = t.sub(MAGIC);
                DoubleVector r = k.fma(y.broadcast(-LN2_HI), y);
                r = k.fma(y.broadcast(-LN2_LO), r);
                DoubleVector e = r.fma(1.0 / 479001600, 1.0 / 39916800).fma(r, r.broadcast(1.0 / 3628800))
                        .fma(r, r.broadcast(1.0 / 362880)).fma(r, r.broadcast(1.0 / 40320))
                        .fma(r, r.broadcast(1.0 / 5040)).fma(r, r.broadcast(1.0 / 720)).fma(r, r.broadcast(1.0 / 120))
                        .fma(r, r.broadcast(1.0 / 24)).fma(r, r.broadcast(1.0 / 6)).fma(r, r.broadcast(0.5));
                e = e.fma(r.mul(r), r).add(1)
                        .mul(t.reinterpretAsLongs().add(1023 - MAGIC_BITS).lanewise(LSHL, 52).reinterpretAsDoubles());
                FloatVector m = (FloatVector) e.convertShape(D2F, HF, 0);
                FloatVector ap = p.abs();
                FloatVector rounded = ap.add(TWO_23);
                VectorMask<Float> big = ap.compare(GE, TWO_23);
                VectorMask<Float> integer = rounded.sub(TWO_23).compare(EQ, ap).or(big);
                VectorMask<Float> odd = rounded.blend(ap, big).reinterpretAsInts().and(1).compare(NE, 0)
                        .cast(HF).and(integer).and(ap.compare(LT, TWO_24));
                VectorMask<Float> negative = x.reinterpretAsInts().compare(LT, 0).cast(HF);
                m.blend(m.neg(), negative.and(odd))
                        .blend(Float.NaN, x.compare(LT, 0f).and(x.compare(NE, Float.NEGATIVE_INFINITY)).andNot(integer))
                        .blend(1f, p.compare(EQ, 0f))
                        .intoArray(out, oo + i);
            }
        }
        for (; i < n; i++) {
            out[oo + i] = pow(as == 0 ? a0 : a[ao + i], bs == 0 ? b0 : b[bo + i]);
        }
    }

    /** x^p, {@link Math#pow} semantics: the same bits as a lane of the array pow. */
    static float pow(float x, float p) {
        float m = (float) exp((double) p * log((double) Math.abs(x)));
        float ap = Math.abs(p);
        float rounded = ap + TWO_23;
        boolean big = ap >= TWO_23;
        boolean integer = rounded - TWO_23 == ap || big;
        boolean odd = (Float.floatToRawIntBits(big ? ap : rounded) & 1) != 0 && integer && ap < TWO_24;
        boolean negative = Float.floatToRawIntBits(x) < 0;
        float r = negative && odd ? -m : m;
        if (x < 0f && x != Float.NEGATIVE_INFINITY && !integer) {
            r = Float.NaN;
        }
        return p == 0f ? 1f : r;
    }
}
