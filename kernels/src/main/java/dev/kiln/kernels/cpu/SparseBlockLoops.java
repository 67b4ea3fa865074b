package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.SparseCsrLoops.TILE;

import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Inner loops of the block-sparse products: {@code C[r, j] (=|+=) sum W[r, q] * B[q, j]} over the
 * stored blocks of a range of block rows, for a range of columns ("lanes") of row-major C and B.
 * A row of B (one column of a block) is loaded once and multiplied into four rows of the block,
 * so a 4-row group does four FMAs per load and runs at the FMA rate, where a single row (like CSR)
 * is bound by the loads: per stored value at batch 64 on Zen 5, 0.7 ns for 4x1 and 8x1 blocks,
 * 0.75 for 4x16, 0.8 for 4x4, but 2.3 for 1x16.
 *
 * <p>Rows of a block are taken four at a time (one FMA chain per row and lane, in block then
 * column order) and the rest one at a time (two chains per lane, the even and the odd columns of
 * each block, added at the end). The 64-lane, 16-lane and scalar paths keep exactly that order, so
 * a lane's result does not depend on the path. Each path is written out in one method (the JIT
 * boxes vectors passed to helpers it declines to inline).
 */
final class SparseBlockLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    /**
     * Whether four rows of a block go over 2 vectors of lanes ({@link #tile4x1Narrow},
     * {@link #tile4Narrow}: 8 accumulators) rather than 4 ({@link #tile4x1}, {@link #tile4}: 16):
     * with 16 vector registers, where 16 accumulators, 4 loads of B and the weight spilled to the
     * stack. Zen 1, 1024x1024 in 4x1 blocks, batch 64, {@code kiln bench --groups sparse}: 90%
     * zeros 121-126 -> 291 dense-equivalent GFLOP/s on 1 thread (3.2x -> 7.6x Kiln's dense),
     * 95% 339-358 -> 510; a random 90% of 4x1 blocks, best of 1000 calls, 648 -> 437 us on 1
     * thread and 347 -> 233 on 2, of 4x4 blocks 869 -> 519 and 462 -> 284.
     */
    static final boolean NARROW = !Simd.SCALAR && Simd.REGISTERS == 16;

    private SparseBlockLoops() {
    }

    /**
     * Block rows {@code [br0, br1)} and lanes {@code [j0, j1)}: row {@code r} of C starts at
     * {@code c[cOff + (r - br0*blockRows)*ldc]} (lane {@code j} at {@code + j - j0}), row {@code q} of
     * B at {@code b[bOff + q*ldb]} (lane {@code j} at {@code + j}). Reads C only when {@code load}.
     */
    static void rows(float[] c, int cOff, int ldc, boolean load, BlockSparse w, int br0, int br1,
                     float[] b, int bOff, int ldb, int j0, int j1) {
        int[] ptr = w.blockRowPtr();
        int[] bcol = w.blockCol();
        float[] val = w.values();
        int nbr = w.blockRows();
        int nbc = w.blockCols();
        int size = nbr * nbc;
        int cols = w.cols();
        int wide = Simd.SCALAR ? j0 : j0 + (j1 - j0) / TILE * TILE;
        int vec = Simd.SCALAR ? j0 : j0 + (j1 - j0) / L * L;
        for (int br = br0; br < br1; br++) {
            int nr = Math.min(nbr, w.rows() - br * nbr);
            int k0 = ptr[br];
            int k1 = ptr[br + 1];
            for (int i = 0; i < nr; ) {
                int ci = cOff + ((br - br0) * nbr + i) * ldc - j0;
                int vOff = i * nbc;
                boolean four = i + 4 <= nr;
                int j = j0;
                if (four && NARROW) {
                    for (int half = j0 + (j1 - j0) / (2 * L) * (2 * L); j < half; j += 2 * L) {
                        if (nbc == 1) {
                            tile4x1Narrow(c, ci + j, ldc, load, bcol, val, k0, k1, vOff, size, b, bOff + j, ldb);
                        } else {
                            tile4Narrow(c, ci + j, ldc, load, bcol, val, k0, k1, vOff, nbc, size, cols, b, bOff + j,
                                    ldb);
                        }
                    }
                }
                for (; j < wide; j += TILE) {
                    if (four && nbc == 1) {
                        tile4x1(c, ci + j, ldc, load, bcol, val, k0, k1, vOff, size, b, bOff + j, ldb);
                    } else if (four) {
                        tile4(c, ci + j, ldc, load, bcol, val, k0, k1, vOff, nbc, size, cols, b, bOff + j, ldb);
                    } else {
                        tile1(c, ci + j, load, bcol, val, k0, k1, vOff, nbc, size, cols, b, bOff + j, ldb);
                    }
                }
                for (; j < vec; j += L) {
                    if (four) {
                        vector4(c, ci + j, ldc, load, bcol, val, k0, k1, vOff, nbc, size, cols, b, bOff + j, ldb);
                    } else {
                        vector1(c, ci + j, load, bcol, val, k0, k1, vOff, nbc, size, cols, b, bOff + j, ldb);
                    }
                }
                for (; j < j1; j++) {
                    for (int g = 0; g < (four ? 4 : 1); g++) {
                        scalar(four, c, ci + j + g * ldc, load, bcol, val, k0, k1, vOff + g * nbc, nbc, size, cols,
                                b, bOff + j, ldb);
                    }
                }
                i += four ? 4 : 1;
            }
        }
    }

    /**
     * Four rows of a block row, {@link SparseCsrLoops#TILE} lanes: 16 accumulators. One flat loop
     * over the columns of all blocks (a nested loop per block ran a fifth slower at 4 columns).
     */
    private static void tile4(float[] c, int ci, int ldc, boolean load, int[] bcol, float[] val, int k0, int k1,
                              int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        if (k0 < k1) {
            int k = k0;
            int q0 = bcol[k] * nbc;
            int left = Math.min(nbc, cols - q0);
            int o = bj + q0 * ldb;
            int v = k * size + vOff;
            while (true) {
                FloatVector b0 = FloatVector.fromArray(F, b, o);
                FloatVector b1 = FloatVector.fromArray(F, b, o + L);
                FloatVector b2 = FloatVector.fromArray(F, b, o + 2 * L);
                FloatVector b3 = FloatVector.fromArray(F, b, o + 3 * L);
                FloatVector w = FloatVector.broadcast(F, val[v]);
                a00 = w.fma(b0, a00);
                a01 = w.fma(b1, a01);
                a02 = w.fma(b2, a02);
                a03 = w.fma(b3, a03);
                w = FloatVector.broadcast(F, val[v + nbc]);
                a10 = w.fma(b0, a10);
                a11 = w.fma(b1, a11);
                a12 = w.fma(b2, a12);
                a13 = w.fma(b3, a13);
                w = FloatVector.broadcast(F, val[v + 2 * nbc]);
                a20 = w.fma(b0, a20);
                a21 = w.fma(b1, a21);
                a22 = w.fma(b2, a22);
                a23 = w.fma(b3, a23);
                w = FloatVector.broadcast(F, val[v + 3 * nbc]);
                a30 = w.fma(b0, a30);
                a31 = w.fma(b1, a31);
                a32 = w.fma(b2, a32);
                a33 = w.fma(b3, a33);
                o += ldb;
                v++;
                if (--left == 0) {
                    if (++k == k1) {
                        break;
                    }
                    q0 = bcol[k] * nbc;
                    left = Math.min(nbc, cols - q0);
                    o = bj + q0 * ldb;
                    v = k * size + vOff;
                }
            }
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (load) {
            a00 = a00.add(FloatVector.fromArray(F, c, r0));
            a01 = a01.add(FloatVector.fromArray(F, c, r0 + L));
            a02 = a02.add(FloatVector.fromArray(F, c, r0 + 2 * L));
            a03 = a03.add(FloatVector.fromArray(F, c, r0 + 3 * L));
            a10 = a10.add(FloatVector.fromArray(F, c, r1));
            a11 = a11.add(FloatVector.fromArray(F, c, r1 + L));
            a12 = a12.add(FloatVector.fromArray(F, c, r1 + 2 * L));
            a13 = a13.add(FloatVector.fromArray(F, c, r1 + 3 * L));
            a20 = a20.add(FloatVector.fromArray(F, c, r2));
            a21 = a21.add(FloatVector.fromArray(F, c, r2 + L));
            a22 = a22.add(FloatVector.fromArray(F, c, r2 + 2 * L));
            a23 = a23.add(FloatVector.fromArray(F, c, r2 + 3 * L));
            a30 = a30.add(FloatVector.fromArray(F, c, r3));
            a31 = a31.add(FloatVector.fromArray(F, c, r3 + L));
            a32 = a32.add(FloatVector.fromArray(F, c, r3 + 2 * L));
            a33 = a33.add(FloatVector.fromArray(F, c, r3 + 3 * L));
        }
        a00.intoArray(c, r0);
        a01.intoArray(c, r0 + L);
        a02.intoArray(c, r0 + 2 * L);
        a03.intoArray(c, r0 + 3 * L);
        a10.intoArray(c, r1);
        a11.intoArray(c, r1 + L);
        a12.intoArray(c, r1 + 2 * L);
        a13.intoArray(c, r1 + 3 * L);
        a20.intoArray(c, r2);
        a21.intoArray(c, r2 + L);
        a22.intoArray(c, r2 + 2 * L);
        a23.intoArray(c, r2 + 3 * L);
        a30.intoArray(c, r3);
        a31.intoArray(c, r3 + L);
        a32.intoArray(c, r3 + 2 * L);
        a33.intoArray(c, r3 + 3 * L);
    }

    /** {@link #tile4} over 2 vectors of lanes (same chains, same order, same bits). */
    private static void tile4Narrow(float[] c, int ci, int ldc, boolean load, int[] bcol, float[] val, int k0, int k1,
                                    int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        if (k0 < k1) {
            int k = k0;
            int q0 = bcol[k] * nbc;
            int left = Math.min(nbc, cols - q0);
            int o = bj + q0 * ldb;
            int v = k * size + vOff;
            while (true) {
                FloatVector b0 = FloatVector.fromArray(F, b, o);
                FloatVector b1 = FloatVector.fromArray(F, b, o + L);
                FloatVector w = FloatVector.broadcast(F, val[v]);
                a00 = w.fma(b0, a00);
                a01 = w.fma(b1, a01);
                w = FloatVector.broadcast(F, val[v + nbc]);
                a10 = w.fma(b0, a10);
                a11 = w.fma(b1, a11);
                w = FloatVector.broadcast(F, val[v + 2 * nbc]);
                a20 = w.fma(b0, a20);
                a21 = w.fma(b1, a21);
                w = FloatVector.broadcast(F, val[v + 3 * nbc]);
                a30 = w.fma(b0, a30);
                a31 = w.fma(b1, a31);
                o += ldb;
                v++;
                if (--left == 0) {
                    if (++k == k1) {
                        break;
                    }
                    q0 = bcol[k] * nbc;
                    left = Math.min(nbc, cols - q0);
                    o = bj + q0 * ldb;
                    v = k * size + vOff;
                }
            }
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (load) {
            a00 = a00.add(FloatVector.fromArray(F, c, r0));
            a01 = a01.add(FloatVector.fromArray(F, c, r0 + L));
            a10 = a10.add(FloatVector.fromArray(F, c, r1));
            a11 = a11.add(FloatVector.fromArray(F, c, r1 + L));
            a20 = a20.add(FloatVector.fromArray(F, c, r2));
            a21 = a21.add(FloatVector.fromArray(F, c, r2 + L));
            a30 = a30.add(FloatVector.fromArray(F, c, r3));
            a31 = a31.add(FloatVector.fromArray(F, c, r3 + L));
        }
        a00.intoArray(c, r0);
        a01.intoArray(c, r0 + L);
        a10.intoArray(c, r1);
        a11.intoArray(c, r1 + L);
        a20.intoArray(c, r2);
        a21.intoArray(c, r2 + L);
        a30.intoArray(c, r3);
        a31.intoArray(c, r3 + L);
    }

    /** {@link #tile4x1} over 2 vectors of lanes (same chains, same order, same bits). */
    private static void tile4x1Narrow(float[] c, int ci, int ldc, boolean load, int[] bcol, float[] val, int k0,
                                      int k1, int vOff, int size, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        for (int k = k0, v = k0 * size + vOff; k < k1; k++, v += size) {
            int o = bj + bcol[k] * ldb;
            FloatVector b0 = FloatVector.fromArray(F, b, o);
            FloatVector b1 = FloatVector.fromArray(F, b, o + L);
            FloatVector w = FloatVector.broadcast(F, val[v]);
            a00 = w.fma(b0, a00);
            a01 = w.fma(b1, a01);
            w = FloatVector.broadcast(F, val[v + 1]);
            a10 = w.fma(b0, a10);
            a11 = w.fma(b1, a11);
            w = FloatVector.broadcast(F, val[v + 2]);
            a20 = w.fma(b0, a20);
            a21 = w.fma(b1, a21);
            w = FloatVector.broadcast(F, val[v + 3]);
            a30 = w.fma(b0, a30);
            a31 = w.fma(b1, a31);
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (load) {
            a00 = a00.add(FloatVector.fromArray(F, c, r0));
            a01 = a01.add(FloatVector.fromArray(F, c, r0 + L));
            a10 = a10.add(FloatVector.fromArray(F, c, r1));
            a11 = a11.add(FloatVector.fromArray(F, c, r1 + L));
            a20 = a20.add(FloatVector.fromArray(F, c, r2));
            a21 = a21.add(FloatVector.fromArray(F, c, r2 + L));
            a30 = a30.add(FloatVector.fromArray(F, c, r3));
            a31 = a31.add(FloatVector.fromArray(F, c, r3 + L));
        }
        a00.intoArray(c, r0);
        a01.intoArray(c, r0 + L);
        a10.intoArray(c, r1);
        a11.intoArray(c, r1 + L);
        a20.intoArray(c, r2);
        a21.intoArray(c, r2 + L);
        a30.intoArray(c, r3);
        a31.intoArray(c, r3 + L);
    }

    /** {@link #tile4} for one-column blocks, without the column bookkeeping (a fifth faster for 8x1). */
    private static void tile4x1(float[] c, int ci, int ldc, boolean load, int[] bcol, float[] val, int k0, int k1,
                                int vOff, int size, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int k = k0, v = k0 * size + vOff; k < k1; k++, v += size) {
            int o = bj + bcol[k] * ldb;
            FloatVector b0 = FloatVector.fromArray(F, b, o);
            FloatVector b1 = FloatVector.fromArray(F, b, o + L);
            FloatVector b2 = FloatVector.fromArray(F, b, o + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, b, o + 3 * L);
            FloatVector w = FloatVector.broadcast(F, val[v]);
            a00 = w.fma(b0, a00);
            a01 = w.fma(b1, a01);
            a02 = w.fma(b2, a02);
            a03 = w.fma(b3, a03);
            w = FloatVector.broadcast(F, val[v + 1]);
            a10 = w.fma(b0, a10);
            a11 = w.fma(b1, a11);
            a12 = w.fma(b2, a12);
            a13 = w.fma(b3, a13);
            w = FloatVector.broadcast(F, val[v + 2]);
            a20 = w.fma(b0, a20);
            a21 = w.fma(b1, a21);
            a22 = w.fma(b2, a22);
            a23 = w.fma(b3, a23);
            w = FloatVector.broadcast(F, val[v + 3]);
            a30 = w.fma(b0, a30);
            a31 = w.fma(b1, a31);
            a32 = w.fma(b2, a32);
            a33 = w.fma(b3, a33);
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (load) {
            a00 = a00.add(FloatVector.fromArray(F, c, r0));
            a01 = a01.add(FloatVector.fromArray(F, c, r0 + L));
            a02 = a02.add(FloatVector.fromArray(F, c, r0 + 2 * L));
            a03 = a03.add(FloatVector.fromArray(F, c, r0 + 3 * L));
            a10 = a10.add(FloatVector.fromArray(F, c, r1));
            a11 = a11.add(FloatVector.fromArray(F, c, r1 + L));
            a12 = a12.add(FloatVector.fromArray(F, c, r1 + 2 * L));
            a13 = a13.add(FloatVector.fromArray(F, c, r1 + 3 * L));
            a20 = a20.add(FloatVector.fromArray(F, c, r2));
            a21 = a21.add(FloatVector.fromArray(F, c, r2 + L));
            a22 = a22.add(FloatVector.fromArray(F, c, r2 + 2 * L));
            a23 = a23.add(FloatVector.fromArray(F, c, r2 + 3 * L));
            a30 = a30.add(FloatVector.fromArray(F, c, r3));
            a31 = a31.add(FloatVector.fromArray(F, c, r3 + L));
            a32 = a32.add(FloatVector.fromArray(F, c, r3 + 2 * L));
            a33 = a33.add(FloatVector.fromArray(F, c, r3 + 3 * L));
        }
        a00.intoArray(c, r0);
        a01.intoArray(c, r0 + L);
        a02.intoArray(c, r0 + 2 * L);
        a03.intoArray(c, r0 + 3 * L);
        a10.intoArray(c, r1);
        a11.intoArray(c, r1 + L);
        a12.intoArray(c, r1 + 2 * L);
        a13.intoArray(c, r1 + 3 * L);
        a20.intoArray(c, r2);
        a21.intoArray(c, r2 + L);
        a22.intoArray(c, r2 + 2 * L);
        a23.intoArray(c, r2 + 3 * L);
        a30.intoArray(c, r3);
        a31.intoArray(c, r3 + L);
        a32.intoArray(c, r3 + 2 * L);
        a33.intoArray(c, r3 + 3 * L);
    }

    /** Four rows of a block row, one vector of lanes; same arithmetic as {@link #tile4}. */
    private static void vector4(float[] c, int ci, int ldc, boolean load, int[] bcol, float[] val, int k0, int k1,
                                int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0, a2 = a0, a3 = a0;
        for (int k = k0; k < k1; k++) {
            int q0 = bcol[k] * nbc;
            int qn = Math.min(nbc, cols - q0);
            int v = k * size + vOff;
            for (int q = 0; q < qn; q++, v++) {
                FloatVector bq = FloatVector.fromArray(F, b, bj + (q0 + q) * ldb);
                a0 = FloatVector.broadcast(F, val[v]).fma(bq, a0);
                a1 = FloatVector.broadcast(F, val[v + nbc]).fma(bq, a1);
                a2 = FloatVector.broadcast(F, val[v + 2 * nbc]).fma(bq, a2);
                a3 = FloatVector.broadcast(F, val[v + 3 * nbc]).fma(bq, a3);
            }
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (load) {
            a0 = a0.add(FloatVector.fromArray(F, c, r0));
            a1 = a1.add(FloatVector.fromArray(F, c, r1));
            a2 = a2.add(FloatVector.fromArray(F, c, r2));
            a3 = a3.add(FloatVector.fromArray(F, c, r3));
        }
        a0.intoArray(c, r0);
        a1.intoArray(c, r1);
        a2.intoArray(c, r2);
        a3.intoArray(c, r3);
    }

    /** One row of a block row, {@link SparseCsrLoops#TILE} lanes: even and odd block columns apart. */
    private static void tile1(float[] c, int ci, boolean load, int[] bcol, float[] val, int k0, int k1,
                              int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, e0 = z, e1 = z, e2 = z, e3 = z;
        for (int k = k0; k < k1; k++) {
            int q0 = bcol[k] * nbc;
            int qn = Math.min(nbc, cols - q0);
            int v = k * size + vOff;
            int o = bj + q0 * ldb;
            int q = 0;
            for (; q + 1 < qn; q += 2, v += 2, o += 2 * ldb) {
                FloatVector w = FloatVector.broadcast(F, val[v]);
                a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
                a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
                a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
                a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
                w = FloatVector.broadcast(F, val[v + 1]);
                e0 = w.fma(FloatVector.fromArray(F, b, o + ldb), e0);
                e1 = w.fma(FloatVector.fromArray(F, b, o + ldb + L), e1);
                e2 = w.fma(FloatVector.fromArray(F, b, o + ldb + 2 * L), e2);
                e3 = w.fma(FloatVector.fromArray(F, b, o + ldb + 3 * L), e3);
            }
            if (q < qn) {
                FloatVector w = FloatVector.broadcast(F, val[v]);
                a0 = w.fma(FloatVector.fromArray(F, b, o), a0);
                a1 = w.fma(FloatVector.fromArray(F, b, o + L), a1);
                a2 = w.fma(FloatVector.fromArray(F, b, o + 2 * L), a2);
                a3 = w.fma(FloatVector.fromArray(F, b, o + 3 * L), a3);
            }
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

    /** One row of a block row, one vector of lanes; same arithmetic as {@link #tile1}. */
    private static void vector1(float[] c, int ci, boolean load, int[] bcol, float[] val, int k0, int k1,
                                int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        FloatVector a = FloatVector.zero(F);
        FloatVector e = a;
        for (int k = k0; k < k1; k++) {
            int q0 = bcol[k] * nbc;
            int qn = Math.min(nbc, cols - q0);
            int v = k * size + vOff;
            int o = bj + q0 * ldb;
            int q = 0;
            for (; q + 1 < qn; q += 2, v += 2, o += 2 * ldb) {
                a = FloatVector.broadcast(F, val[v]).fma(FloatVector.fromArray(F, b, o), a);
                e = FloatVector.broadcast(F, val[v + 1]).fma(FloatVector.fromArray(F, b, o + ldb), e);
            }
            if (q < qn) {
                a = FloatVector.broadcast(F, val[v]).fma(FloatVector.fromArray(F, b, o), a);
            }
        }
        a = a.add(e);
        if (load) {
            a = a.add(FloatVector.fromArray(F, c, ci));
        }
        a.intoArray(c, ci);
    }

    /**
     * One row, one lane: a single chain in block and column order when {@code single} (as the
     * four-row paths), else even and odd columns of each block apart (as the one-row paths).
     */
    private static void scalar(boolean single, float[] c, int ci, boolean load, int[] bcol, float[] val, int k0,
                               int k1, int vOff, int nbc, int size, int cols, float[] b, int bj, int ldb) {
        float a = 0;
        float e = 0;
        for (int k = k0; k < k1; k++) {
            int q0 = bcol[k] * nbc;
            int qn = Math.min(nbc, cols - q0);
            int v = k * size + vOff;
            for (int q = 0; q < qn; q++) {
                if (single || (q & 1) == 0) {
                    a = Math.fma(val[v + q], b[bj + (q0 + q) * ldb], a);
                } else {
                    e = Math.fma(val[v + q], b[bj + (q0 + q) * ldb], e);
                }
            }
        }
        if (!single) {
            a += e;
        }
        c[ci] = load ? a + c[ci] : a;
    }
}
