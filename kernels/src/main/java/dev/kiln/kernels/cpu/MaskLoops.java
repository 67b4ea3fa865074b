package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.NE;

import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loops of {@link Elementwise#compare} and {@link Elementwise#where}, which move between float
 * lanes and byte flags. They vectorize where a byte species with as many lanes as {@link Simd#F}
 * exists (256- and 512-bit vectors) and run scalar otherwise. Arguments are checked by the caller.
 */
final class MaskLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Bytes with {@code L} lanes, or null when no such species exists. */
    private static final VectorSpecies<Byte> B =
            Simd.SCALAR || Simd.BITS < 256 ? null : VectorSpecies.of(byte.class, VectorShape.forBitSize(Simd.BITS / 4));

    private MaskLoops() {
    }

    private static int loopBound(int n) {
        return B == null ? 0 : Simd.loopBoundF(n);
    }

    /**
     * {@code o[oo + i] = (a[ao + i*as] op b[bo + i*bs]) ? 1 : 0}. GT and GE run as LT and LE with the
     * operands swapped, NE as EQ with the flags swapped (so NaN != NaN holds).
     */
    static void compare(CompareOp op, byte[] o, int oo, float[] a, int ao, int as, float[] b, int bo, int bs,
                        int n) {
        switch (op) {
            case EQ -> eq(o, oo, a, ao, as, b, bo, bs, n, (byte) 1);
            case NE -> eq(o, oo, a, ao, as, b, bo, bs, n, (byte) 0);
            case LT -> lt(o, oo, a, ao, as, b, bo, bs, n);
            case LE -> le(o, oo, a, ao, as, b, bo, bs, n);
            case GT -> lt(o, oo, b, bo, bs, a, ao, as, n);
            case GE -> le(o, oo, b, bo, bs, a, ao, as, n);
        }
    }

    private static FloatVector lanes(float[] x, int off, int stride, int i) {
        return stride == 0 ? FloatVector.broadcast(F, x[off]) : FloatVector.fromArray(F, x, off + i);
    }

    private static void flags(VectorMask<Float> m, byte yes, byte[] o, int i) {
        ByteVector.broadcast(B, (byte) (1 - yes)).blend(yes, m.cast(B)).intoArray(o, i);
    }

    /** Writes {@code yes} where a == b and {@code 1 - yes} elsewhere. */
    private static void eq(byte[] o, int oo, float[] a, int ao, int as, float[] b, int bo, int bs, int n,
                           byte yes) {
        byte no = (byte) (1 - yes);
        int i = 0;
        for (int ub = loopBound(n); i < ub; i += L) {
            flags(lanes(a, ao, as, i).compare(EQ, lanes(b, bo, bs, i)), yes, o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i * as] == b[bo + i * bs] ? yes : no;
        }
    }

    private static void lt(byte[] o, int oo, float[] a, int ao, int as, float[] b, int bo, int bs, int n) {
        int i = 0;
        for (int ub = loopBound(n); i < ub; i += L) {
            flags(lanes(a, ao, as, i).compare(LT, lanes(b, bo, bs, i)), (byte) 1, o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i * as] < b[bo + i * bs] ? (byte) 1 : (byte) 0;
        }
    }

    private static void le(byte[] o, int oo, float[] a, int ao, int as, float[] b, int bo, int bs, int n) {
        int i = 0;
        for (int ub = loopBound(n); i < ub; i += L) {
            flags(lanes(a, ao, as, i).compare(LE, lanes(b, bo, bs, i)), (byte) 1, o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i * as] <= b[bo + i * bs] ? (byte) 1 : (byte) 0;
        }
    }

    /**
     * {@code o[oo + i] = c[co + i] != 0 ? a[ao + i*as] : b[bo + i*bs]} for {@code n >= 1} (the condition
     * has stride 1); broadcast values are read before anything is written.
     */
    static void where(float[] o, int oo, byte[] c, int co, float[] a, int ao, int as, float[] b, int bo, int bs,
                      int n) {
        float a0 = a[ao];
        float b0 = b[bo];
        int i = 0;
        for (int ub = loopBound(n); i < ub; i += L) {
            VectorMask<Float> m = ByteVector.fromArray(B, c, co + i).compare(NE, (byte) 0).cast(F);
            FloatVector av = as == 0 ? FloatVector.broadcast(F, a0) : FloatVector.fromArray(F, a, ao + i);
            FloatVector bv = bs == 0 ? FloatVector.broadcast(F, b0) : FloatVector.fromArray(F, b, bo + i);
            bv.blend(av, m).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = c[co + i] != 0 ? (as == 0 ? a0 : a[ao + i]) : (bs == 0 ? b0 : b[bo + i]);
        }
    }
}
