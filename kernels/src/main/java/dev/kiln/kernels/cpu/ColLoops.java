package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.D2F;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2L;
import static jdk.incubator.vector.VectorOperators.IS_NAN;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions over the n axis of one slab {@code [n, inner]} (element {@code (j, c)} at
 * {@code x[base + j*inner + c]}) for the columns {@code c0 <= c < c1}, writing {@code out[ob + c]}.
 * Each vector keeps {@code L} adjacent columns in registers and walks down the rows; leftover columns
 * run scalar. Sums accumulate in double. Shared by {@link Reduce} and {@link Softmax}; arguments
 * are checked by the callers.
 */
final class ColLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Double> D = Simd.D;
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, F.vectorShape());
    private static final int L = F.length();
    /** The upper half of the float lanes, where the second of two double vectors narrows to. */
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F, (1L << L) - (1L << (L / 2)));

    private ColLoops() {
    }

    /** Last column (exclusive) the vector loops cover, starting from c0. */
    static int vectorEnd(int c0, int c1) {
        return Simd.SCALAR ? c0 : c0 + (c1 - c0) / L * L;
    }

    static FloatVector load(float[] x, int i) {
        return FloatVector.fromArray(F, x, i);
    }

    /**
     * The float vector whose lower lanes are {@code lo} and upper lanes {@code hi}, rounded: both
     * narrow with part-0 conversions (into the lower half) and {@code hi}'s halves are swapped into
     * place ({@link Simd#SWAP_F}), as part -1 would go through {@code slice} (see {@link Simd#FH}).
     */
    static FloatVector narrow(DoubleVector lo, DoubleVector hi) {
        FloatVector l = (FloatVector) lo.convertShape(D2F, F, 0);
        return l.blend(((FloatVector) hi.convertShape(D2F, F, 0)).rearrange(Simd.SWAP_F), UPPER);
    }

    /** {@code out[ob + c] = sum_j x[base + j*inner + c]}. */
    static void sum(float[] out, int ob, float[] x, int base, int n, int inner, int c0, int c1) {
        int c = c0;
        for (int ce = vectorEnd(c0, c1); c < ce; c += L) {
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = s0;
            for (int j = 0, p = base + c; j < n; j++, p += inner) {
                s0 = s0.add(RowLoops.widen(x, p));
                s1 = s1.add(RowLoops.widen(x, p + L / 2));
            }
            narrow(s0, s1).intoArray(out, ob + c);
        }
        for (; c < c1; c++) {
            double s = 0;
            for (int j = 0, p = base + c; j < n; j++, p += inner) {
                s += x[p];
            }
            out[ob + c] = (float) s;
        }
    }

    /**
     * {@code out[ob + c] = sign * max_j (sign * x[base + j*inner + c])} for {@code n >= 1}: the max for
     * sign 1, the min for sign -1 ({@link Math#max} / {@link Math#min} semantics: NaN wins).
     */
    static void max(float[] out, int ob, float[] x, int base, int n, int inner, int c0, int c1, float sign) {
        int c = c0;
        for (int ce = vectorEnd(c0, c1); c < ce; c += L) {
            FloatVector m = load(x, base + c).mul(sign);
            for (int j = 1, p = base + inner + c; j < n; j++, p += inner) {
                m = m.max(load(x, p).mul(sign));
            }
            m.mul(sign).intoArray(out, ob + c);
        }
        for (; c < c1; c++) {
            float m = sign * x[base + c];
            for (int j = 1, p = base + inner + c; j < n; j++, p += inner) {
                m = Math.max(m, sign * x[p]);
            }
            out[ob + c] = sign * m;
        }
    }

    /**
     * {@code out[ob + c] =} the first j where {@code sign * x[base + j*inner + c]} is largest (a NaN
     * counts as largest), for {@code n >= 1}: argmax for sign 1, argmin for sign -1.
     */
    static void argmax(long[] out, int ob, float[] x, int base, int n, int inner, int c0, int c1, float sign) {
        int c = c0;
        for (int ce = vectorEnd(c0, c1); c < ce; c += L) {
            FloatVector best = load(x, base + c).mul(sign);
            IntVector at = IntVector.zero(Simd.I);
            for (int j = 1, p = base + inner + c; j < n; j++, p += inner) {
                FloatVector v = load(x, p).mul(sign);
                VectorMask<Float> better = v.compare(GT, best).or(v.test(IS_NAN).andNot(best.test(IS_NAN)));
                best = best.blend(v, better);
                at = at.blend(j, better.cast(Simd.I));
            }
            ((LongVector) at.convertShape(I2L, LONGS, 0)).intoArray(out, ob + c);
            ((LongVector) at.rearrange(Simd.SWAP_I).convertShape(I2L, LONGS, 0)).intoArray(out, ob + c + L / 2);
        }
        for (; c < c1; c++) {
            float best = sign * x[base + c];
            int at = 0;
            for (int j = 1, p = base + inner + c; j < n; j++, p += inner) {
                float v = sign * x[p];
                if (v > best || Float.isNaN(v) && !Float.isNaN(best)) {
                    best = v;
                    at = j;
                }
            }
            out[ob + c] = at;
        }
    }
}
