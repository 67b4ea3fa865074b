package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector loops over one contiguous row {@code x[off .. off + n)}, shared by {@link Reduce} and
 * {@link Softmax}. Sums accumulate in double vectors (each float vector widened to two), about as
 * fast as float accumulation and accurate for rows of millions. Max and min follow {@link Math#max} /
 * {@link Math#min}: a NaN anywhere gives NaN. Sum lanes are combined one by one in lane order, not
 * by {@code reduceLanes(ADD)}, which adds them in sequence when interpreted and in another order
 * once C2 compiles it; {@code reduceLanes(MAX / MIN)} is kept, as its result does not depend on the
 * order. Exponentials come from {@link VMath}. So results keep their bits when the JIT compiles
 * these loops. Arguments are checked by the callers.
 */
final class RowLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Double> D = Simd.D;
    private static final int L = F.length();

    private RowLoops() {
    }

    private static FloatVector load(float[] x, int i) {
        return FloatVector.fromArray(F, x, i);
    }

    /** {@code x[i .. i + L/2)} widened to doubles: a half-width load and one intrinsified conversion. */
    static DoubleVector widen(float[] x, int i) {
        return (DoubleVector) FloatVector.fromArray(Simd.FH, x, i).convertShape(F2D, D, 0);
    }

    /** The lower half of a computed vector's lanes widened to doubles (one part-0 conversion). */
    static DoubleVector lower(FloatVector v) {
        return (DoubleVector) v.convertShape(F2D, D, 0);
    }

    /**
     * The upper half of a computed vector's lanes widened to doubles, in lane order: the halves are
     * swapped ({@link Simd#SWAP_F}) and the part-0 conversion widens what is now the lower half.
     */
    static DoubleVector upper(FloatVector v) {
        return (DoubleVector) v.rearrange(Simd.SWAP_F).convertShape(F2D, D, 0);
    }

    /** The lanes of a double accumulator added one by one in lane order (not {@code reduceLanes}: see above). */
    private static double lanes(DoubleVector acc) {
        double s = 0;
        for (int k = 0; k < acc.length(); k++) {
            s += acc.lane(k);
        }
        return s;
    }

    /** sum of the row, in double. */
    static double sum(float[] x, int off, int n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        DoubleVector a2 = a0;
        DoubleVector a3 = a0;
        int i = 0;
        int ub = Simd.loopBoundF(n);
        int h = L / 2;
        for (int ub2 = ub - ub % (2 * L); i < ub2; i += 2 * L) {
            a0 = a0.add(widen(x, off + i));
            a1 = a1.add(widen(x, off + i + h));
            a2 = a2.add(widen(x, off + i + L));
            a3 = a3.add(widen(x, off + i + L + h));
        }
        for (; i < ub; i += L) {
            a0 = a0.add(widen(x, off + i));
            a1 = a1.add(widen(x, off + i + h));
        }
        DoubleVector acc = a0.add(a1).add(a2.add(a3));
        double s = lanes(acc);
        for (; i < n; i++) {
            s += x[off + i];
        }
        return s;
    }

    /** sum of {@code a[ao + i] * b[bo + i]}, products and sum in double. */
    static double dot(float[] a, int ao, float[] b, int bo, int n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int i = 0;
        int h = L / 2;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            a0 = widen(a, ao + i).fma(widen(b, bo + i), a0);
            a1 = widen(a, ao + i + h).fma(widen(b, bo + i + h), a1);
        }
        DoubleVector acc = a0.add(a1);
        double s = lanes(acc);
        for (; i < n; i++) {
            s += (double) a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** sum of {@code (x[off + i] - m)^2} in double, the differences taken in double. */
    static double sumSquaredDeviation(float[] x, int off, double m, int n) {
        DoubleVector dm = DoubleVector.broadcast(D, m);
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int i = 0;
        int h = L / 2;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            DoubleVector d0 = widen(x, off + i).sub(dm);
            DoubleVector d1 = widen(x, off + i + h).sub(dm);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        DoubleVector acc = a0.add(a1);
        double s = lanes(acc);
        for (; i < n; i++) {
            double d = x[off + i] - m;
            s = Math.fma(d, d, s);
        }
        return s;
    }

    /** sum of {@code g[go + i] * (x[xo + i] - m)} in double, the differences taken in double. */
    static double dotDeviation(float[] g, int go, float[] x, int xo, double m, int n) {
        DoubleVector dm = DoubleVector.broadcast(D, m);
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int i = 0;
        int h = L / 2;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            a0 = widen(x, xo + i).sub(dm).fma(widen(g, go + i), a0);
            a1 = widen(x, xo + i + h).sub(dm).fma(widen(g, go + i + h), a1);
        }
        DoubleVector acc = a0.add(a1);
        double s = lanes(acc);
        for (; i < n; i++) {
            s = Math.fma(x[xo + i] - m, g[go + i], s);
        }
        return s;
    }

    /** Largest value of a row of {@code n >= 1}, NaN if any is NaN. */
    static float max(float[] x, int off, int n) {
        int i = 0;
        float m = x[off];
        int ub = Simd.loopBoundF(n);
        if (ub > 0) {
            FloatVector m0 = load(x, off);
            FloatVector m1 = m0;
            for (i = L; i + 2 * L <= ub; i += 2 * L) {
                m0 = m0.max(load(x, off + i));
                m1 = m1.max(load(x, off + i + L));
            }
            for (; i < ub; i += L) {
                m0 = m0.max(load(x, off + i));
            }
            m = m0.max(m1).reduceLanes(MAX);
        }
        for (; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    /** Smallest value of a row of {@code n >= 1}, NaN if any is NaN. */
    static float min(float[] x, int off, int n) {
        int i = 0;
        float m = x[off];
        int ub = Simd.loopBoundF(n);
        if (ub > 0) {
            FloatVector m0 = load(x, off);
            FloatVector m1 = m0;
            for (i = L; i + 2 * L <= ub; i += 2 * L) {
                m0 = m0.min(load(x, off + i));
                m1 = m1.min(load(x, off + i + L));
            }
            for (; i < ub; i += L) {
                m0 = m0.min(load(x, off + i));
            }
            m = m0.min(m1).reduceLanes(MIN);
        }
        for (; i < n; i++) {
            m = Math.min(m, x[off + i]);
        }
        return m;
    }

    /**
     * First index {@code i < n} with {@code x[off + i] == m} (+0 and -0 match each other), or with NaN
     * when m is NaN; -1 when there is none.
     */
    static int indexOf(float[] x, int off, int n, float m) {
        boolean nan = Float.isNaN(m);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, off + i);
            VectorMask<Float> hit = nan ? v.test(IS_NAN) : v.compare(EQ, m);
            if (hit.anyTrue()) {
                return i + hit.firstTrue();
            }
        }
        for (; i < n; i++) {
            float v = x[off + i];
            if (v == m || nan && Float.isNaN(v)) {
                return i;
            }
        }
        return -1;
    }

    /** Writes {@code out[oo + i] = exp(x[xo + i] - m)} and returns their sum in double. */
    static double expShifted(float[] out, int oo, float[] x, int xo, float m, int n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector e = VMath.exp(load(x, xo + i).sub(m));
            e.intoArray(out, oo + i);
            a0 = a0.add(lower(e));
            a1 = a1.add(upper(e));
        }
        DoubleVector acc = a0.add(a1);
        double s = lanes(acc);
        for (; i < n; i++) {
            float e = VMath.exp(x[xo + i] - m);
            out[oo + i] = e;
            s += e;
        }
        return s;
    }

    /** Sum of {@code exp(x[xo + i] - m)} in double, nothing written. */
    static double sumExpShifted(float[] x, int xo, float m, int n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector e = VMath.exp(load(x, xo + i).sub(m));
            a0 = a0.add(lower(e));
            a1 = a1.add(upper(e));
        }
        DoubleVector acc = a0.add(a1);
        double s = lanes(acc);
        for (; i < n; i++) {
            s += VMath.exp(x[xo + i] - m);
        }
        return s;
    }
}
