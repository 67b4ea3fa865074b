package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;

/**
 * The blocked GEMM (BLIS loop order): for each {@code NC} column panel and {@code KC} slice of k,
 * pack the B panel; for each {@code MC} row block, pack the A block; then sweep the micro-kernel
 * over {@code NR} column strips (B strip kept in L1) and {@code MR} row strips (A block in L2).
 * Threads take disjoint column or row ranges of C, each with its own packing buffers, except
 * that threads splitting the rows claim row blocks and share each packed B panel ({@link GemmSharedB}).
 * For a Linear layer's batch an untransposed B is read in place ({@link #readsBInPlace}).
 */
final class GemmPacked {
    /**
     * Depth of a packed slice. Deep slices pay on Zen 5: C is loaded and stored once per slice, and
     * a Linear layer's whole k (up to 1024) takes one slice, so its bias and ReLU go in the one
     * store. System property {@code kiln.gemm.kc} overrides it.
     */
    static final int KC = Math.max(1, Integer.getInteger("kiln.gemm.kc", 1024));
    /** Rows of a packed A block ({@code MC x KC} sits in L2), a multiple of {@code MR}; {@code kiln.gemm.mc}. */
    static final int MC = roundUp(Math.max(1, Integer.getInteger("kiln.gemm.mc", 96)), MR);
    /** Columns of a packed B panel ({@code KC x NC} sits in L3), a multiple of {@code NR}; {@code kiln.gemm.nc}. */
    static final int NC = roundUp(Math.max(1, Integer.getInteger("kiln.gemm.nc", 1024)), NR);

    private GemmPacked() {
    }

    /**
     * Validated GEMM with {@code m, n, k > 0}; split over threads when large enough. With a
     * {@code bias}, {@code bias[bo + j]} is added to column {@code j} of the result; with
     * {@code relu}, negatives are then set to zero (see {@link GemmMicro#kernel}).
     */
    static void gemm(boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff, int lda,
                     boolean transB, float[] b, int bOff, int ldb, float[] bias, int bo, boolean relu,
                     int m, int n, int k) {
        int threads = Parallel.threads();
        int unitsM = (m + MR - 1) / MR;
        int unitsN = (n + NR - 1) / NR;
        if (threads == 1 || (long) m * n * k < Gemm.PARALLEL_MIN_WORK || Math.max(unitsM, unitsN) < 2) {
            serial(acc, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, bias, bo, relu, m, n, k);
            return;
        }
        // Each thread packs its own operands: splitting N repeats the packing of A in every thread,
        // splitting M that of B, which is cheaper per float (whole vectors when B is not transposed).
        boolean splitN = unitsM < threads ? unitsN > unitsM : unitsN >= threads && n >= 2 * m;
        if (splitN) {
            Parallel.forRange(unitsN, Gemm.grain((long) m * NR * k), (lo, hi) -> {
                int j0 = lo * NR;
                int j1 = Math.min(n, hi * NR);
                serial(acc, c, cOff + j0, ldc, transA, a, aOff, lda,
                        transB, b, transB ? bOff + j0 * ldb : bOff + j0, ldb, bias, bo + j0, relu, m, j1 - j0, k);
            });
        } else if (!readsBInPlace(transB, ldb, (m + threads - 1) / threads) && GemmSharedB.LOCK.tryLock()) {
            try {
                int chunks = Math.min(threads, Math.max(1, unitsM / Gemm.grain((long) MR * n * k)));
                GemmSharedB.gemm(chunks, acc, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, bias, bo, relu,
                        m, n, k);
            } finally {
                GemmSharedB.LOCK.unlock();
            }
        } else {
            Parallel.forRange(unitsM, Gemm.grain((long) MR * n * k), (lo, hi) -> {
                int i0 = lo * MR;
                int i1 = Math.min(m, hi * MR);
                serial(acc, c, cOff + i0 * ldc, ldc, transA, a, transA ? aOff + i0 : aOff + i0 * lda, lda,
                        transB, b, bOff, ldb, bias, bo, relu, i1 - i0, n, k);
            });
        }
    }

    /**
     * One thread's blocked GEMM. Up to {@code MC} rows (one A block: a Linear layer's batch), B is
     * packed a strip at a time right before that strip's tiles, into one strip's buffer that stays
     * in L2, instead of a whole panel first: a panel of a 1024x1024 weight (4 MB) went out to L3
     * and came back for its one A block. Same packed values, same tiles. Zen 5, 1 thread, CPU time,
     * min of 20, both in one JVM (loaded machine): 64x1024x1024 with B transposed (bias) 865-936
     * vs 1034-1047 us, B untransposed 879-1122 vs 995-1207 us.
     */
    private static void serial(boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff, int lda,
                               boolean transB, float[] b, int bOff, int ldb, float[] bias, int bo, boolean relu,
                               int m, int n, int k) {
        GemmPack.Buffers buf = GemmPack.Buffers.get();
        int kcMax = Math.min(KC, k);
        boolean direct = readsBInPlace(transB, ldb, m);
        boolean stripwise = !direct && m <= MC;
        float[] bp = buf.b(kcMax * (direct || stripwise ? NR : roundUp(Math.min(NC, n), NR)));
        float[] ap = buf.a(kcMax * roundUp(Math.min(MC, m), MR));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int full = nc / NR * NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean load = acc || pc > 0;
                boolean last = pc + kc == k;
                Epilogue ep = Epilogue.of(load, last ? bias : null, bo + jc, last && relu);
                if (stripwise) {
                    GemmPack.packA(ap, transA, a, aOff, lda, 0, pc, m, kc);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        GemmPack.packB(bp, transB, b, bOff, ldb, pc, jc + jr, kc, nr);
                        macro(ap, bp, null, 0, ldb, buf.tile, c, cOff + jc + jr, ldc, m, nr, kc, ep, jr, false);
                    }
                    continue;
                }
                if (!direct) {
                    GemmPack.packB(bp, transB, b, bOff, ldb, pc, jc, kc, nc);
                } else if (full < nc) {
                    GemmPack.packB(bp, false, b, bOff, ldb, pc, jc + full, kc, nc - full);
                }
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    GemmPack.packA(ap, transA, a, aOff, lda, ic, pc, mc, kc);
                    macro(ap, bp, direct ? b : null, bOff + pc * ldb + jc, ldb, buf.tile, c, cOff + ic * ldc + jc, ldc,
                            mc, nc, kc, ep, 0, rowsFirst(m, n, kc));
                }
            }
        }
    }

    /** What the store of a tile does: add the old C ({@code load}), then the bias (if any), then ReLU. */
    record Epilogue(boolean load, float[] bias, int bo, boolean relu) {
        private static final Epilogue STORE = new Epilogue(false, null, 0, false);
        private static final Epilogue ADD = new Epilogue(true, null, 0, false);

        /** This epilogue; the two without a bias or ReLU are shared, so the common case allocates nothing. */
        static Epilogue of(boolean load, float[] bias, int bo, boolean relu) {
            return bias == null && !relu ? (load ? ADD : STORE) : new Epilogue(load, bias, bo, relu);
        }

        /** The stored value of column {@code j} given the product {@code v}. */
        float apply(float v, float old, int j) {
            float r = load ? v + old : v;
            if (bias != null) {
                r += bias[bo + j];
            }
            return relu && r < 0f ? 0f : r;
        }
    }

    /**
     * Whether B is read in place instead of packed: untransposed (rows of {@code NR} floats are
     * contiguous), a Linear layer's batch or less ({@code m} up to {@link #IN_PLACE_ROWS}: the
     * packing is reused by few tiles) and rows not a multiple of 2 KB apart (they would share few
     * L1 sets). Measured on Zen 5, 1 thread, packing plus tiles against tiles reading B in place
     * (m x n x k): 64x768x300 156 -> 138 us, 16x784x300 64 -> 38, 64x784x1024 580 -> 491,
     * 296x784x64 148 -> 143; but 512x784x300 1223 -> 1260 and, 4 KB apart, 64x1024x1024 800 ->
     * 1070, 64x1024x300 229 -> 248.
     */
    static boolean readsBInPlace(boolean transB, int ldb, int m) {
        return !transB && m <= IN_PLACE_ROWS && ldb % 512 != 0;
    }

    /**
     * The most rows of C for which {@link #readsBInPlace} reads B in place (system property
     * {@code kiln.gemm.inplace.rows}): 4 row blocks with 32 vector registers (Zen 5, above), 24
     * with 16. On Zen 3 (16 registers, a 32 KB 8-way L1, B's strip rows one 64-byte line each)
     * packing won from 32-48 rows on: 1 thread, GFLOP/s in place / packed, alternating JVMs:
     * 256x256x256 74 / 89-91, 64x256x576 64-66 / 82, 64x768x300 57-75 / 84, 64x784x300 77-80 /
     * 84, 64x300x784 58-72 / 80-81, 64x784x1024 72-75 / 85, 64x196x576 69-70 / 75-76, 48x784x300
     * 78 / 78, 32x784x300 73 / 71, 32x1000x512 63 / 68-70; but 24x784x300 74-75 / 68-70,
     * 16x784x300 61 / 54, 12x784x300 59 / 48-50.
     */
    static final int IN_PLACE_ROWS = Integer.getInteger("kiln.gemm.inplace.rows", Simd.REGISTERS >= 32 ? 4 * MC : 24);

    /**
     * Whether {@link #macro} goes along the rows of C for a product of
     * {@code m x n} with slices of {@code kc}: shallow slices ({@code kc <= 128}) into a C of 1 MB
     * or more, which is not in L2. Each tile then loads and stores C right after the tile to its
     * left, so every row of C is read from start to end and the prefetchers fetch it; down the
     * columns, each tile's 8 rows of C lie a page apart and every line is a demand miss. Zen 5,
     * 1 thread, CPU time, min of 15-20, both orders alternating in one JVM (loaded machine), C +=
     * A^T B (a Linear weight gradient): 1024x1024x64 1.05-1.10x, 1024x1024x128 1.07x,
     * 2048x1024x32 1.20x, 512x512x64 1.05x, without accumulating 1024x1024x64 1.01-1.03x; at
     * kc 256 1.005x; C under 1 MB lost (784x300x64 0.89x, 300x784x64 0.98-1.00x).
     */
    static boolean rowsFirst(int m, int n, int kc) {
        return kc <= 128 && (long) m * n >= 1 << 18;
    }

    /**
     * {@code C[mc, nc] (=|+=) Ap * B} tile by tile, with the epilogue, down the columns of tiles (B's
     * strip stays in L1 for all of A's strips) or, with {@code rowsFirst}, along the rows. B's full
     * strips are read in place from {@code bd} (row {@code p} of column {@code j} at
     * {@code bd[bdOff + p*ldb + j]}) when it is not null, and the last partial strip from {@code bp};
     * else every strip from {@code bp}. The tiles are the same either way.
     */
    static void macro(float[] ap, float[] bp, float[] bd, int bdOff, int ldb, float[] tile, float[] c,
                      int cOff, int ldc, int mc, int nc, int kc, Epilogue ep, int j0, boolean rowsFirst) {
        if (GemmJit.use && mc >= MR && nc >= NR) {
            macroJit(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, rowsFirst);
            return;
        }
        if (rowsFirst) {
            for (int ir = 0; ir < mc; ir += MR) {
                for (int jr = 0; jr < nc; jr += NR) {
                    tile(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, ir, jr);
                }
            }
        } else {
            for (int jr = 0; jr < nc; jr += NR) {
                for (int ir = 0; ir < mc; ir += MR) {
                    tile(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, ir, jr);
                }
            }
        }
    }

    /**
     * {@link #macro} with its full tiles through {@link GemmJit}: a call per strip of B (down its
     * column of tiles) or, with {@code rowsFirst}, per strip of A (along its row), the partial tiles
     * after each through {@link #tile}. The same tiles in the same order, so the same bits.
     */
    private static void macroJit(float[] ap, float[] bp, float[] bd, int bdOff, int ldb, float[] tile, float[] c,
                                 int cOff, int ldc, int mc, int nc, int kc, Epilogue ep, int j0, boolean rowsFirst) {
        int fullM = mc / MR;
        int fullN = nc / NR;
        boolean inPlace = bd != null;
        float[] bs = inPlace ? bd : bp;
        int step = inPlace ? ldb : NR;
        int bStep = inPlace ? NR : NR * kc;
        int bBase = inPlace ? bdOff : 0;
        int bo = ep.bo() + j0;
        if (rowsFirst) {
            for (int ir = 0; ir < mc; ir += MR) {
                if (ir < fullM * MR) {
                    GemmJit.tiles(ap, ir * kc, 0, bs, bBase, step, bStep, c, cOff + ir * ldc, ldc, NR, kc, fullN,
                            ep.load(), ep.bias(), bo, NR, ep.relu());
                    if (fullN * NR < nc) {
                        tile(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, ir, fullN * NR);
                    }
                } else {
                    for (int jr = 0; jr < nc; jr += NR) {
                        tile(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, ir, jr);
                    }
                }
            }
        } else {
            for (int jr = 0; jr < nc; jr += NR) {
                int ir = 0;
                if (jr < fullN * NR) {
                    GemmJit.tiles(ap, 0, MR * kc, bs, bBase + jr / NR * bStep, step, 0, c, cOff + jr, ldc, MR * ldc,
                            kc, fullM, ep.load(), ep.bias(), bo + jr, 0, ep.relu());
                    ir = fullM * MR;
                }
                for (; ir < mc; ir += MR) {
                    tile(ap, bp, bd, bdOff, ldb, tile, c, cOff, ldc, mc, nc, kc, ep, j0, ir, jr);
                }
            }
        }
    }

    /** The tile of {@link #macro} at row {@code ir} and column {@code jr} of the block. */
    private static void tile(float[] ap, float[] bp, float[] bd, int bdOff, int ldb, float[] tile, float[] c,
                             int cOff, int ldc, int mc, int nc, int kc, Epilogue ep, int j0, int ir, int jr) {
        int nr = Math.min(NR, nc - jr);
        int bo = ep.bo() + j0 + jr;
        boolean inPlace = bd != null && nr == NR;
        float[] bs = inPlace ? bd : bp;
        int bi = inPlace ? bdOff + jr : bd != null ? 0 : jr * kc;
        int step = inPlace ? ldb : NR;
        int mr = Math.min(MR, mc - ir);
        int ci = cOff + ir * ldc + jr;
        if (mr == MR && nr == NR) {
            GemmMicro.kernel(kc, ap, ir * kc, bs, bi, step, c, ci, ldc, ep.load(), ep.bias(), bo, ep.relu());
        } else {
            GemmMicro.kernel(kc, ap, ir * kc, bs, bi, step, tile, 0, NR, false, null, 0, false);
            for (int i = 0; i < mr; i++) {
                int row = ci + i * ldc;
                for (int j = 0, t = i * NR; j < nr; j++) {
                    c[row + j] = ep.apply(tile[t + j], c[row + j], j0 + jr + j);
                }
            }
        }
    }

    private static int roundUp(int x, int unit) {
        return (x + unit - 1) / unit * unit;
    }
}
