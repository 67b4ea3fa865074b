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
 * <p>Every lane sums the elements of its row in one fused multiply-add chain, in column order,
 * and rows go two at a time, their chains interleaved (two chains keep both FMA units busy past
 * the FMA latency; a last odd row runs alone). The 64-lane, 16-lane and scalar paths do exactly
 * that, so a lane's result depends neither on the path nor on how the rows are paired.
 * Measured at batch 64 (1024 columns, ~100 stored weights a row, Zen 5): with B in L1, 1.00 ns per
 * stored weight against 1.21 for one row at a time in two chains (even and odd elements) and 1.14
 * for four chains; with B in L2, as in a 1024-wide layer, 1.55 against 1.62 and 1.56. There the
 * 256 bytes of B each weight needs come at about 48 bytes a cycle, near L2's 64: the loop is bound
 * by L2, and blocking the columns so that B stays in L1 did not pay (segments of 6-26 weights a
 * row at 90-95% sparsity cost 30-50 cycles each in mispredicted exits and partial sums:
 * 214 us unblocked, 237 with 128-column blocks, 391 with 64). For the same reason a different
 * layout of the weight itself would not pay: column indices pre-multiplied by the row length
 * measured the same (1.61 against 1.62 ns in L2, 1.20 against 1.21 in L1), and 16-bit indices
 * or values interleaved with them would shrink the 8 bytes read per weight, a stream the
 * prefetchers keep up with, not the 256 bytes of B. Nor did reordering a strip's weights by
 * column (a column-sorted copy per 64-row strip, one flat loop adding into the strip's rows in
 * L1, the same FMAs in the same order per row, so the same bits): 3.95 against 2.73 ns per
 * weight at 90%, 2.33 against 1.71 at 95%, bound by the four loads and four stores of partial
 * sums per weight. Each path is written out in one method: the JIT boxes vectors passed to
 * helpers it declines to inline.
 *
 * <p>Where it can, {@link Sparse} runs the products that do not accumulate through
 * {@link SparseCsrJit} instead, machine code with the same arithmetic (same bits) on a per-matrix
 * plan, which makes the column blocking pay with AVX-512: the segments' mispredicted exits cost
 * less there, and the plan pairs rows of about equal length per block. With AVX2 it runs
 * {@link #row8}'s loop, prefetching B's rows, which the Vector API cannot.
 */
final class SparseCsrLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Lanes of the widest two-row path: four vectors. */
    static final int TILE = 4 * L;
    /**
     * Whether rows go one at a time over 8 vectors of lanes ({@link #row8}): with 16 vector registers
     * (8-float vectors), where two rows of 4 vectors cover only 32 lanes and a batch of 64 took each
     * row's weights twice (and a panel of 32 lanes per thread). Zen 1, 1024 x 1024, batch 64, best
     * of 300 calls: 90% 808 -> 783 us on 1 thread, 476 -> 432 on 2 (dense sgemm 1800: 3.8x -> 4.2x);
     * 95% 270 -> 251 on 2 threads.
     */
    static final boolean ROW8 = !Simd.SCALAR && Simd.REGISTERS == 16;
    /** Lanes of {@link Sparse}'s packed panels of the batch: 8 vectors with {@link #ROW8}, else {@link #TILE}. */
    static final int PANEL = ROW8 ? 8 * L : TILE;

    private SparseCsrLoops() {
    }

    /**
     * Rows {@code [r0, r1)} and lanes {@code [j0, j1)}: row {@code r} of C starts at
     * {@code c[cOff + (r - r0)*ldc]} (lane {@code j} at {@code + j - j0}), row {@code q} of B at
     * {@code b[bOff + q*ldb]} (lane {@code j} at {@code + j}). Reads C only when {@code load}.
     */
    static void rows(float[] c, int cOff, int ldc, boolean load, int[] rowPtr, int[] idx, float[] val, int r0, int r1,
                     float[] b, int bOff, int ldb, int j0, int j1) {
        if (ROW8 && j1 - j0 >= 8 * L) {
            int w8 = j0 + (j1 - j0) / (8 * L) * (8 * L);
            for (int r = r0; r < r1; r++) {
                int ci = cOff + (r - r0) * ldc - j0;
                for (int j = j0; j < w8; j += 8 * L) {
                    row8(c, ci + j, load, idx, val, rowPtr[r], rowPtr[r + 1], b, bOff + j, ldb);
                }
            }
            if (w8 == j1) {
                return;
            }
            j0 = w8;
        }
        int wide = Simd.SCALAR ? j0 : j0 + (j1 - j0) / TILE * TILE;
        int vec = Simd.SCALAR ? j0 : j0 + (j1 - j0) / L * L;
        for (int r = r0; r < r1; r += 2) {
            int ci = cOff + (r - r0) * ldc - j0;
            int p0 = rowPtr[r];
            int p1 = rowPtr[r + 1];
            boolean two = r + 1 < r1;
            int q1 = two ? rowPtr[r + 2] : p1;
            int j = j0;
            for (; j < wide; j += TILE) {
                tile(c, ci + j, ldc, load, idx, val, p0, p1, two, q1, b, bOff + j, ldb);
            }
            if (j + 2 * L <= vec) {
                half(c, ci + j, ldc, load, idx, val, p0, p1, two, q1, b, bOff + j, ldb);
                j += 2 * L;
            }
            for (; j < vec; j += L) {
                vector(c, ci + j, ldc, load, idx, val, p0, p1, two, q1, b, bOff + j, ldb);
            }
            for (; j < j1; j++) {
                scalar(c, ci + j, ldc, load, idx, val, p0, p1, two, q1, b, bOff + j, ldb);
            }
        }
    }

    /** One row, 8 vectors of lanes: {@code c[ci ...] (=|+=) sum_p val[p] * b[bj + idx[p]*ldb ...]} over {@code [p0, p1)}. */
    private static void row8(float[] c, int ci, boolean load, int[] idx, float[] val, int p0, int p1, float[] b, int bj,
                             int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int p = p0; p < p1; p++) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
            a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
            a4 = w.fma(FloatVector.fromArray(F, b, o + 4 * L), a4);
            a5 = w.fma(FloatVector.fromArray(F, b, o + 5 * L), a5);
            a6 = w.fma(FloatVector.fromArray(F, b, o + 6 * L), a6);
            a7 = w.fma(FloatVector.fromArray(F, b, o + 7 * L), a7);
        }
        if (load) {
            a0 = a0.add(FloatVector.fromArray(F, c, ci));
            a1 = a1.add(FloatVector.fromArray(F, c, ci + L));
            a2 = a2.add(FloatVector.fromArray(F, c, ci + 2 * L));
            a3 = a3.add(FloatVector.fromArray(F, c, ci + 3 * L));
            a4 = a4.add(FloatVector.fromArray(F, c, ci + 4 * L));
            a5 = a5.add(FloatVector.fromArray(F, c, ci + 5 * L));
            a6 = a6.add(FloatVector.fromArray(F, c, ci + 6 * L));
            a7 = a7.add(FloatVector.fromArray(F, c, ci + 7 * L));
        }
        a0.intoArray(c, ci);
        a1.intoArray(c, ci + L);
        a2.intoArray(c, ci + 2 * L);
        a3.intoArray(c, ci + 3 * L);
        a4.intoArray(c, ci + 4 * L);
        a5.intoArray(c, ci + 5 * L);
        a6.intoArray(c, ci + 6 * L);
        a7.intoArray(c, ci + 7 * L);
    }

    /**
     * Two rows (one unless {@code two}; then {@code q1 == p1}), {@link #TILE} lanes:
     * {@code c[ci ...] (=|+=) sum_p val[p] * b[bj + idx[p]*ldb ...]} over {@code [p0, p1)} and
     * {@code c[ci + ldc ...]} likewise over {@code [p1, q1)}.
     */
    private static void tile(float[] c, int ci, int ldc, boolean load, int[] idx, float[] val, int p0, int p1,
                             boolean two, int q1, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, e0 = z, e1 = z, e2 = z, e3 = z;
        int p = p0;
        int q = p1;
        for (int pe = p0 + Math.min(p1 - p0, q1 - p1); p < pe; p++, q++) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
            a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
            o = bj + idx[q] * ldb;
            w = FloatVector.broadcast(F, val[q]);
            e0 = w.fma(FloatVector.fromArray(F, b, o), e0);
            e1 = w.fma(FloatVector.fromArray(F, b, o + L), e1);
            e2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), e2);
            e3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), e3);
        }
        for (; p < p1; p++) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
            a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
        }
        for (; q < q1; q++) {
            int o = bj + idx[q] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[q]);
            e0 = w.fma(FloatVector.fromArray(F, b, o), e0);
            e1 = w.fma(FloatVector.fromArray(F, b, o + L), e1);
            e2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), e2);
            e3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), e3);
        }
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
        if (!two) {
            return;
        }
        int cj = ci + ldc;
        if (load) {
            e0 = e0.add(FloatVector.fromArray(F, c, cj));
            e1 = e1.add(FloatVector.fromArray(F, c, cj + L));
            e2 = e2.add(FloatVector.fromArray(F, c, cj + 2 * L));
            e3 = e3.add(FloatVector.fromArray(F, c, cj + 3 * L));
        }
        e0.intoArray(c, cj);
        e1.intoArray(c, cj + L);
        e2.intoArray(c, cj + 2 * L);
        e3.intoArray(c, cj + 3 * L);
    }

    /** Two rows, two vectors of lanes; same arithmetic as {@link #tile}. */
    private static void half(float[] c, int ci, int ldc, boolean load, int[] idx, float[] val, int p0, int p1,
                             boolean two, int q1, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, e0 = z, e1 = z;
        int p = p0;
        int q = p1;
        for (int pe = p0 + Math.min(p1 - p0, q1 - p1); p < pe; p++, q++) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
            o = bj + idx[q] * ldb;
            w = FloatVector.broadcast(F, val[q]);
            e0 = w.fma(FloatVector.fromArray(F, b, o), e0);
            e1 = w.fma(FloatVector.fromArray(F, b, o + L), e1);
        }
        for (; p < p1; p++) {
            int o = bj + idx[p] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[p]);
            a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
            a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
        }
        for (; q < q1; q++) {
            int o = bj + idx[q] * ldb;
            FloatVector w = FloatVector.broadcast(F, val[q]);
            e0 = w.fma(FloatVector.fromArray(F, b, o), e0);
            e1 = w.fma(FloatVector.fromArray(F, b, o + L), e1);
        }
        if (load) {
            a0 = a0.add(FloatVector.fromArray(F, c, ci));
            a1 = a1.add(FloatVector.fromArray(F, c, ci + L));
        }
        a0.intoArray(c, ci);
        a1.intoArray(c, ci + L);
        if (two) {
            int cj = ci + ldc;
            if (load) {
                e0 = e0.add(FloatVector.fromArray(F, c, cj));
                e1 = e1.add(FloatVector.fromArray(F, c, cj + L));
            }
            e0.intoArray(c, cj);
            e1.intoArray(c, cj + L);
        }
    }

    /** Two rows, one vector of lanes; same arithmetic as {@link #tile}. */
    private static void vector(float[] c, int ci, int ldc, boolean load, int[] idx, float[] val, int p0, int p1,
                               boolean two, int q1, float[] b, int bj, int ldb) {
        FloatVector a = FloatVector.zero(F);
        FloatVector e = a;
        int p = p0;
        int q = p1;
        for (int pe = p0 + Math.min(p1 - p0, q1 - p1); p < pe; p++, q++) {
            a = FloatVector.broadcast(F, val[p]).fma(FloatVector.fromArray(F, b, bj + idx[p] * ldb), a);
            e = FloatVector.broadcast(F, val[q]).fma(FloatVector.fromArray(F, b, bj + idx[q] * ldb), e);
        }
        for (; p < p1; p++) {
            a = FloatVector.broadcast(F, val[p]).fma(FloatVector.fromArray(F, b, bj + idx[p] * ldb), a);
        }
        for (; q < q1; q++) {
            e = FloatVector.broadcast(F, val[q]).fma(FloatVector.fromArray(F, b, bj + idx[q] * ldb), e);
        }
        if (load) {
            a = a.add(FloatVector.fromArray(F, c, ci));
        }
        a.intoArray(c, ci);
        if (two) {
            if (load) {
                e = e.add(FloatVector.fromArray(F, c, ci + ldc));
            }
            e.intoArray(c, ci + ldc);
        }
    }

    /** Two rows, one lane; same arithmetic as {@link #tile}. */
    private static void scalar(float[] c, int ci, int ldc, boolean load, int[] idx, float[] val, int p0, int p1,
                               boolean two, int q1, float[] b, int bj, int ldb) {
        float a = 0;
        float e = 0;
        int p = p0;
        int q = p1;
        for (int pe = p0 + Math.min(p1 - p0, q1 - p1); p < pe; p++, q++) {
            a = Math.fma(val[p], b[bj + idx[p] * ldb], a);
            e = Math.fma(val[q], b[bj + idx[q] * ldb], e);
        }
        for (; p < p1; p++) {
            a = Math.fma(val[p], b[bj + idx[p] * ldb], a);
        }
        for (; q < q1; q++) {
            e = Math.fma(val[q], b[bj + idx[q] * ldb], e);
        }
        c[ci] = load ? a + c[ci] : a;
        if (two) {
            c[ci + ldc] = load ? e + c[ci + ldc] : e;
        }
    }
}
