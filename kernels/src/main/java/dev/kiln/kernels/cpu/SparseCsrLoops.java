package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Inner loops of the CSR products: {@code C[r, j] (=|+=) sum_p values[p] * B[colIdx[p], j]} for
 * a range of rows and columns ("lanes") of row-major C and B. Each stored element is broadcast and
 * multiplied into a stretch of a row of B, so the vectors run along the lanes (the batch of a
 * Linear layer, the pixels of an im2col matrix).
 *
 * <p>Every lane sums the even-numbered elements of a row and the odd-numbered ones in two fused
 * multiply-add chains and adds the two at the end (two chains keep both FMA units busy past the
 * FMA latency). The 64-lane, 16-lane and scalar paths do exactly that, so a lane's result does not
 * depend on which path computed it. Each path is written out in one method: the JIT boxes vectors
 * passed to helpers it declines to inline.
 */
final class SparseCsrLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Lanes of the widest path: four vectors. */
    static final int TILE = 4 * L;

    private SparseCsrLoops() {
    }

    /**
     * Rows {@code [r0, r1)} and lanes {@code [j0, j1)}: row {@code r} of C starts at
     * {@code c[cOff + (r - r0)*ldc]} (lane {@code j} at {@code + j - j0}), row {@code q} of B at
     * {@code b[bOff + q*ldb]} (lane {@code j} at {@code + j}). Reads C only when {@code load}.
     */
    static void rows(float[] c, int cOff, int ldc, boolean load, int[] rowPtr, int[] idx, float[] val, int r0, int r1,
                     float[] b, int bOff, int ldb, int j0, int j1) {
        int wide = Simd.SCALAR ? j0 : j0 + (j1 - j0) / TILE * TILE;
        int vec = Simd.SCALAR ? j0 : j0 + (j1 - j0) / L * L;
        for (int r = r0; r < r1; r++) {
            int ci = cOff + (r - r0) * ldc - j0;
            int p0 = rowPtr[r];
            int p1 = rowPtr[r + 1];
            int j = j0;
            for (; j < wide; j += TILE) {
                tile(c, ci + j, load, idx, val, p0, p1, b, bOff + j, ldb);
            }
            for (; j < vec; j += L) {
                vector(c, ci + j, load, idx, val, p0, p1, b, bOff + j, ldb);
            }
            for (; j < j1; j++) {
                scalar(c, ci + j, load, idx, val, p0, p1, b, bOff + j, ldb);
            }
        }
    }

    /** One row, {@link #TILE} lanes: {@code c[ci ...] (=|+=) sum_p val[p] * b[bj + idx[p]*ldb ...]}. */
    private static void tile(float[] c, int ci, boolean load, int[] idx, float[] val, int p0, int p1,
                             float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, e0 = z, e1 = z, e2 = z, e3 = z;
        int p = p0;
        for (; p + 1 < p1; p += 2) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
            a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
            o = bj + idx[p + 1] * ldb;
            w = FloatVector.broadcast(F, val[p + 1]);
            e0 = w.fma(FloatVector.fromArray(F, b, o), e0);
            e1 = w.fma(FloatVector.fromArray(F, b, o + L), e1);
            e2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), e2);
            e3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), e3);
        }
        if (p < p1) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
            a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
        }
        a0 = a0.add(e0);
        a1 = a1.add(e1);
        a2 = a2.add(e2);
        a3 = a3.add(e3);
        if (load) {
            a0 = a0.add(FloatVector.fromArray(F, c, ci));
            a1 = a1.add(FloatVector.fromArray(F, c, ci + L));
            a2 = a2.add(FloatVector.fromArray(F, c, ci + 2 * L));
            a3 = a3.add(FloatVector.fromArray(F, c, ci + 3 * L));
        }
        a0.intoArray(c, ci);
        a1.intoArray(c, ci + L);
        a2.intoArray(c, ci + 2 * L);
        a3.intoArray(c, ci + 3 * L);
    }

    /** One row, one vector of lanes; same arithmetic as {@link #tile}. */
    private static void vector(float[] c, int ci, boolean load, int[] idx, float[] val, int p0, int p1,
                               float[] b, int bj, int ldb) {
        FloatVector a = FloatVector.zero(F);
        FloatVector e = a;
        int p = p0;
        for (; p + 1 < p1; p += 2) {
            a = FloatVector.broadcast(F, val[p]).fma(FloatVector.fromArray(F, b, bj + idx[p] * ldb), a);
            e = FloatVector.broadcast(F, val[p + 1]).fma(FloatVector.fromArray(F, b, bj + idx[p + 1] * ldb), e);
        }
        if (p < p1) {
            a = FloatVector.broadcast(F, val[p]).fma(FloatVector.fromArray(F, b, bj + idx[p] * ldb), a);
        }
        a = a.add(e);
        if (load) {
            a = a.add(FloatVector.fromArray(F, c, ci));
        }
        a.intoArray(c, ci);
    }

    /** One row, one lane; same arithmetic as {@link #tile}. */
    private static void scalar(float[] c, int ci, boolean load, int[] idx, float[] val, int p0, int p1,
                               float[] b, int bj, int ldb) {
        float a = 0;
        float e = 0;
        int p = p0;
        for (; p + 1 < p1; p += 2) {
            a = Math.fma(val[p], b[bj + idx[p] * ldb], a);
            e = Math.fma(val[p + 1], b[bj + idx[p + 1] * ldb], e);
        }
        if (p < p1) {
            a = Math.fma(val[p], b[bj + idx[p] * ldb], a);
        }
        a += e;
        c[ci] = load ? a + c[ci] : a;
    }
}
