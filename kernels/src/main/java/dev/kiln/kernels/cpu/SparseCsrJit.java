package dev.kiln.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.cpu.x86.JitCode;
import dev.kiln.kernels.cpu.x86.SparseCsrCode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The CSR product's inner loop as x86-64 machine code ({@link SparseCsrCode}), installed by
 * {@link JitCode} and called through the FFM linker with {@code Linker.Option.critical(true)} on
 * the Java arrays in place, from a {@link Plan} made once per matrix. With AVX-512 it runs strips
 * of {@link #STRIP} rows, blocked over the columns ({@link StripPlan}); with AVX2 (16 ymm
 * registers) rows one at a time over 64 lanes, prefetching the rows of B it needs next
 * ({@link RowPlan}, {@link SparseCsrCode#rows8}; on Zen 1, 1024x1024, batch 64, a whole
 * {@code Sparse.spmmCsr} at 90% 766 -> 532 us on one thread and 420 -> 303 on two against the
 * Vector API loops, 95% 403 -> 290 and 243 -> 181). Same results, bit for bit, as
 * {@link SparseCsrLoops#rows}, whose Vector API paths stay the fallback (and take the products
 * that add into C, row ranges off the strip grid and lanes past the last whole {@link #LANES}).
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing avx512f
 * (or avx2 and fma), the self-check at class load passing, and no {@code -Dkiln.sparse.jit=false}.
 * The plan is checked when it is made, C and B in Java before each downcall ({@link #call}), so
 * that a bad argument throws rather than crashing the JVM.
 *
 * <p>Measured with AVX-512 (1024x1024, batch 64, one thread, min of 900 calls, the paths interleaved in one
 * process, shared 2-core Zen 5): 90% sparsity 141-142 us a product against 204-206 on the Vector
 * API, 95% 88-91 against 108-113; two threads 84 against 117 and 57 against 70. Blocks of 64, 96,
 * 128, 160, 192, 256 and all 1024 columns: 151, 145, 141, 141, 144, 147, 181 us at 90% (90-100 us
 * at 95% for all but 64 and 1024 columns). With (almost) no stored elements a product still takes 38 us: 16 for packing x
 * and storing y, 22 for the code's 4096 pair records (8 partial sums loaded and stored each).
 * Prefetching the next block's rows of B, 16 lines per pair record, made it slower (154 and 103 us).
 * Nor did a generated 16x16-tile transpose (64 shuffles a tile, whole 64-byte lines stored) pay
 * for packing x or storing y: 152 against 150 us with it packing x, 179 against 149 storing y
 * (each tile writes 16 rows of y 4 KB apart), so both stay in Java. Records of four rows (16
 * chains, the three longer rows' extra elements deferred, pairs only in the last block) measured
 * the same as pairs against the Vector API in the same runs (0.69-0.70 of its time at 90%, 0.81
 * at 95%), so the simpler pairs stay.
 */
final class SparseCsrJit {
    /** Which path the CSR products take: their default choice, or one forced (tests). */
    enum Mode { AUTO, VECTOR, JIT }

    /** Which kernel runs here: AVX-512's column-blocked strips, AVX2's rows, or none. */
    enum Isa { AVX512, AVX2, NONE }

    /** Whether {@link SparseCsrCode#strip} (AVX-512F) can run here. */
    static final boolean STRIPS_SUPPORTED;
    /** Whether {@link SparseCsrCode#rows8} (AVX2 and FMA) can run here. */
    static final boolean ROWS_SUPPORTED;
    /**
     * The kernel the products use: the strips where they can run, else the rows;
     * {@code -Dkiln.sparse.isa=avx2} picks the rows on an AVX-512 machine.
     */
    static final Isa ISA;
    /** Whether some code can run here. */
    static final boolean SUPPORTED;
    /** Whether the CSR products use it by default. */
    static final boolean ENABLED;
    /** Set by tests only. */
    static volatile Mode mode = Mode.AUTO;
    /** Lanes per call: the widest AVX-512 kernel's, and the AVX2 kernel's. */
    static final int LANES = 16 * SparseCsrCode.MAX_NV;
    /** Rows per strip of a plan. */
    static final int STRIP = 64;
    /** Columns per block: their rows of B (256 bytes each at 64 lanes) stay in L1. */
    static final int BLOCK_COLS = 128;
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor ROWS_SIGNATURE = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** What is known of a matrix, by its colIdx array (identity: arrays do not override equals). */
    private static final Map<int[], Seen> PLANS = new WeakHashMap<>();

    static {
        STRIPS_SUPPORTED = JitCode.usable(SparseCsrJit::selfCheckStrips, "avx512f");
        ROWS_SUPPORTED = JitCode.usable(SparseCsrJit::selfCheckRows, "avx2", "fma");
        boolean wantRows = "avx2".equalsIgnoreCase(System.getProperty("kiln.sparse.isa", ""));
        ISA = STRIPS_SUPPORTED && !(wantRows && ROWS_SUPPORTED) ? Isa.AVX512 : ROWS_SUPPORTED ? Isa.AVX2 : Isa.NONE;
        SUPPORTED = ISA != Isa.NONE;
        ENABLED = SUPPORTED && Boolean.parseBoolean(System.getProperty("kiln.sparse.jit", "true"));
    }

    /** A matrix laid out for one of the kernels. */
    sealed interface Plan permits StripPlan, RowPlan {
        int rows();

        int cols();
    }

    /** A matrix seen once ({@code plan} null) or planned, with the rowPtr and width it was seen with. */
    private record Seen(int[] rowPtr, int cols, Plan plan) {
    }

    /**
     * A matrix for {@link SparseCsrCode#rows8}: checked copies of its row offsets and column
     * indices, the indices followed by {@link SparseCsrCode#PREFETCH_DISTANCE} zeros (the kernel
     * reads that far ahead), and its values as they are (see {@link SparseCsr}: not to be
     * modified once made).
     */
    record RowPlan(int rows, int cols, int[] rowPtr, int[] idx, float[] val) implements Plan {
        static RowPlan of(SparseCsr w) {
            int rows = w.rows();
            int cols = w.cols();
            int[] rowPtr = w.rowPtr().clone();
            int nnz = rowPtr[rows];
            if (rowPtr[0] != 0 || nnz > w.colIdx().length || nnz > w.values().length) {
                throw new IllegalArgumentException("SparseCsrJit: row offsets from " + rowPtr[0] + " to " + nnz
                        + " for " + w.colIdx().length + " column indices and " + w.values().length + " values");
            }
            int[] idx = Arrays.copyOf(w.colIdx(), nnz + SparseCsrCode.PREFETCH_DISTANCE);
            for (int r = 0; r < rows; r++) {
                if (rowPtr[r + 1] < rowPtr[r]) {
                    throw new IllegalArgumentException("SparseCsrJit: row offsets decrease at row " + r);
                }
                for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                    if (idx[p] < 0 || idx[p] >= cols) {
                        throw new IllegalArgumentException("SparseCsrJit: column index " + idx[p] + " in row " + r
                                + " (expected [0, " + cols + "))");
                    }
                }
            }
            return new RowPlan(rows, cols, rowPtr, idx, w.values());
        }
    }

    /**
     * A matrix laid out for {@link SparseCsrCode}: per strip of {@link #STRIP} rows and block of
     * {@code blockCols} columns, the strip's rows sorted by their count of stored elements in the
     * block and paired in that order (a lone row, the shortest, paired with itself), so that the
     * two rows of a pair have about the same count; pair records {@code (a, b, na, nb)} in
     * {@code hdr} (rows within the strip), elements in {@code idx} and {@code val}. Strip g's
     * records start at int {@code hdrStart[g]}, its elements at {@code elemStart[g]}.
     */
    record StripPlan(int[] rowPtr, int rows, int cols, int blockCols, int blocks, int[] hdrStart, int[] elemStart,
                     int[] hdr, int[] idx, float[] val) implements Plan {
        static StripPlan of(SparseCsr w, int blockCols) {
            int rows = w.rows();
            int cols = w.cols();
            int[] rowPtr = w.rowPtr();
            int[] colIdx = w.colIdx();
            float[] values = w.values();
            int blocks = Math.max(1, (cols + blockCols - 1) / blockCols);
            int strips = (rows + STRIP - 1) / STRIP;
            int[] hdrStart = new int[strips + 1];
            int[] elemStart = new int[strips + 1];
            for (int g = 0; g < strips; g++) {
                int rs = Math.min(STRIP, rows - g * STRIP);
                hdrStart[g + 1] = hdrStart[g] + 4 * blocks * ((rs + 1) / 2);
                elemStart[g + 1] = rowPtr[g * STRIP + rs];
            }
            int nnz = rowPtr[rows];
            int[] hdr = new int[hdrStart[strips]];
            int[] idx = new int[nnz];
            float[] val = new float[nnz];
            int[] cur = new int[STRIP];
            int[] len = new int[STRIP];
            long[] order = new long[STRIP];
            int h = 0;
            int e = 0;
            for (int g = 0; g < strips; g++) {
                int r0 = g * STRIP;
                int rs = Math.min(STRIP, rows - r0);
                for (int i = 0; i < rs; i++) {
                    cur[i] = rowPtr[r0 + i];
                }
                for (int k = 0; k < blocks; k++) {
                    int limit = k + 1 == blocks ? cols : (k + 1) * blockCols;
                    for (int i = 0; i < rs; i++) {
                        int p = cur[i];
                        int end = rowPtr[r0 + i + 1];
                        while (p < end && colIdx[p] < limit) {
                            if (colIdx[p] < 0) {
                                throw new IllegalArgumentException("SparseCsrJit: column index " + colIdx[p]
                                        + " in row " + (r0 + i) + " (expected [0, " + cols + "))");
                            }
                            p++;
                        }
                        len[i] = p - cur[i];
                        order[i] = (long) len[i] << 32 | i;
                    }
                    Arrays.sort(order, 0, rs);
                    for (int o = rs % 2 == 1 ? -1 : 0; o < rs; o += 2) {
                        int a = (int) order[Math.max(0, o)];
                        int b = (int) order[o + 1];
                        int na = o < 0 ? 0 : len[a];
                        int nb = o < 0 || k + 1 == blocks ? len[b] : na;
                        hdr[h++] = a;
                        hdr[h++] = b;
                        hdr[h++] = na;
                        hdr[h++] = nb;
                        for (int i = 0; i < na; i++, e += 2) {
                            idx[e] = colIdx[cur[a] + i];
                            val[e] = values[cur[a] + i];
                            idx[e + 1] = colIdx[cur[b] + i];
                            val[e + 1] = values[cur[b] + i];
                        }
                        for (int i = na; i < nb; i++, e++) {
                            idx[e] = colIdx[cur[b] + i];
                            val[e] = values[cur[b] + i];
                        }
                        cur[a] += na;
                        cur[b] += nb;
                    }
                }
                for (int i = 0; i < rs; i++) {
                    if (cur[i] != rowPtr[r0 + i + 1]) {
                        throw new IllegalArgumentException("SparseCsrJit: row " + (r0 + i)
                                + " has a column index outside [0, " + cols + ") or out of order");
                    }
                }
            }
            return new StripPlan(rowPtr, rows, cols, blockCols, blocks, hdrStart, elemStart, hdr, idx, val);
        }
    }

    private SparseCsrJit() {
    }

    /**
     * The installed kernel, made when first used. A constant on purpose: C2 inlines a downcall
     * through a static final handle (16 calls of an empty function on 5 heap segments: 0.12 us),
     * while a handle read from an array or a non-final field went through the generic invoker in
     * some compiled states (10 us, flipping between the two from one round of calls to the next).
     */
    private static final class Code {
        static final MethodHandle KERNEL = JitCode.function(SparseCsrCode.strip(SparseCsrCode.MAX_NV), SIGNATURE,
                Linker.Option.critical(true));
    }

    /** {@link SparseCsrCode#rows8} installed, made when first used (a constant, as {@link Code}). */
    private static final class RowsCode {
        static final MethodHandle KERNEL = JitCode.function(SparseCsrCode.rows8(), ROWS_SIGNATURE,
                Linker.Option.critical(true));
    }

    /** Three rows of a small CSR matrix (one of them empty): the product against plain Java arithmetic. */
    private static boolean check(Plan plan, SparseCsr w) {
        float[] b = new float[w.cols() * LANES];
        for (int i = 0; i < b.length; i++) {
            b[i] = i * 0.5f - 7;
        }
        float[] c = new float[w.rows() * LANES];
        Arrays.fill(c, Float.NaN);
        if (rows(plan, c, 0, LANES, 0, w.rows(), b, 0, LANES, 0, LANES) != LANES) {
            return false;
        }
        for (int r = 0; r < w.rows(); r++) {
            for (int l = 0; l < LANES; l++) {
                float want = 0;
                for (int p = w.rowPtr()[r]; p < w.rowPtr()[r + 1]; p++) {
                    want = Math.fma(w.values()[p], b[w.colIdx()[p] * LANES + l], want);
                }
                if (Float.floatToRawIntBits(c[r * LANES + l]) != Float.floatToRawIntBits(want)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static SparseCsr checkMatrix() {
        return new SparseCsr(4, 3, new int[] {0, 2, 3, 3, 5}, new int[] {0, 2, 1, 0, 2},
                new float[] {1.5f, -2f, 3f, 0.25f, 4f});
    }

    /** The strips' kernel, a pair and a lone row in two blocks. */
    private static boolean selfCheckStrips() {
        SparseCsr w = checkMatrix();
        return check(StripPlan.of(w, 2), w);
    }

    private static boolean selfCheckRows() {
        SparseCsr w = checkMatrix();
        return check(RowPlan.of(w), w);
    }

    /**
     * The plan for {@code w} when its products take the code, else null. By default a matrix's
     * first product runs on the Vector API path and the plan is made at its second: making it
     * (sorting each strip's rows per block, copying the elements) costs several products
     * (1024x1024 at 90%: 5-9 ms, about a fifth of {@code SparseCsr.fromDense} on the same matrix),
     * which pays only for a matrix used again, as a pruned layer's weight is.
     */
    static Plan plan(SparseCsr w) {
        Mode md = mode;
        if (md == Mode.JIT && !SUPPORTED) {
            throw new IllegalStateException("SparseCsrJit: forced, but the code cannot run here");
        }
        if (md == Mode.VECTOR || md == Mode.AUTO && !ENABLED || w.rows() == 0 || w.cols() == 0) {
            return null;
        }
        synchronized (PLANS) {
            Seen seen = PLANS.get(w.colIdx());
            boolean same = seen != null && seen.rowPtr() == w.rowPtr() && seen.cols() == w.cols();
            if (same && seen.plan() != null) {
                return seen.plan();
            }
            if (!same && md == Mode.AUTO) {
                PLANS.put(w.colIdx(), new Seen(w.rowPtr(), w.cols(), null));
                return null;
            }
            Plan plan = ISA == Isa.AVX512 ? StripPlan.of(w, BLOCK_COLS) : RowPlan.of(w);
            PLANS.put(w.colIdx(), new Seen(w.rowPtr(), w.cols(), plan));
            return plan;
        }
    }

    /** The units that row ranges given to {@link #rows} should start on: a strip, or any row. */
    static int grid(Plan plan) {
        return plan instanceof StripPlan ? STRIP : 1;
    }

    /**
     * {@link SparseCsrLoops#rows} without accumulation for rows {@code [r0, r1)} and the whole
     * {@link #LANES} from {@code j0} up to {@code j1}, when {@code [r0, r1)} is whole strips (the
     * last one may be short): row {@code r} of C at {@code c[cOff + (r - r0)*ldc]} (lane j at
     * {@code + j - j0}), row {@code q} of B at {@code b[bOff + q*ldb]} (lane j at {@code + j}).
     * Returns the first lane it did not compute ({@code j0} when the rows are off the grid).
     */
    static int rows(Plan plan, float[] c, int cOff, int ldc, int r0, int r1, float[] b, int bOff, int ldb, int j0,
                    int j1) {
        if (plan instanceof RowPlan rp) {
            if (r0 >= r1) {
                return j0;
            }
            int j = j0;
            for (; j + LANES <= j1; j += LANES) {
                call(rp, r0, r1, c, cOff + j - j0, ldc, b, bOff + j, ldb);
            }
            return j;
        }
        StripPlan sp = (StripPlan) plan;
        if (r0 % STRIP != 0 || r1 % STRIP != 0 && r1 != plan.rows()) {
            return j0;
        }
        int j = j0;
        for (; j + LANES <= j1; j += LANES) {
            for (int g = r0 / STRIP; g * STRIP < r1; g++) {
                call(sp, g, c, cOff + j - j0 + (g * STRIP - r0) * ldc, ldc, b, bOff + j, ldb);
            }
        }
        return j;
    }

    /** One checked downcall of the rows' kernel: rows {@code [r0, r1)}, {@link #LANES} lanes, C at {@code cOff}, B at {@code bOff}. */
    private static void call(RowPlan plan, int r0, int r1, float[] c, int cOff, int ldc, float[] b, int bOff, int ldb) {
        int cols = plan.cols();
        if (r0 < 0 || r1 > plan.rows() || r0 >= r1 || cOff < 0 || ldc < LANES
                || (long) cOff + (long) (r1 - r0 - 1) * ldc + LANES > c.length
                || bOff < 0 || ldb < LANES || (long) bOff + (long) (cols - 1) * ldb + LANES > b.length) {
            throw new IllegalStateException("SparseCsrJit: arguments out of bounds: rows [" + r0 + ", " + r1 + ") of "
                    + plan.rows() + ", c " + cOff + "+r*" + ldc + " of " + c.length + ", b " + bOff + "+q*" + ldb
                    + " of " + b.length + " (" + cols + " rows)");
        }
        try {
            RowsCode.KERNEL.invokeExact(MemorySegment.ofArray(c), MemorySegment.ofArray(plan.rowPtr()),
                    MemorySegment.ofArray(plan.idx()), MemorySegment.ofArray(plan.val()), MemorySegment.ofArray(b),
                    4L * cOff, 4L * r0, 4L * bOff, 4L * ldc, 4L * ldb, (long) (r1 - r0));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** One checked downcall: strip {@code g}, {@link #LANES} lanes, C at {@code cOff}, B at {@code bOff}. */
    private static void call(StripPlan plan, int g, float[] c, int cOff, int ldc, float[] b, int bOff, int ldb) {
        int rs = Math.min(STRIP, plan.rows() - g * STRIP);
        int cols = plan.cols();
        if (g < 0 || rs < 1 || cOff < 0 || ldc < LANES || (long) cOff + (long) (rs - 1) * ldc + LANES > c.length
                || bOff < 0 || ldb < LANES || (long) bOff + (long) (cols - 1) * ldb + LANES > b.length) {
            throw new IllegalStateException("SparseCsrJit: arguments out of bounds: strip " + g + " of "
                    + plan.rows() + " rows, c " + cOff + "+r*" + ldc + " of " + c.length + ", b " + bOff + "+q*" + ldb
                    + " of " + b.length + " (" + cols + " rows)");
        }
        try {
            Code.KERNEL.invokeExact(MemorySegment.ofArray(c), MemorySegment.ofArray(plan.hdr()),
                    MemorySegment.ofArray(plan.idx()), MemorySegment.ofArray(plan.val()), MemorySegment.ofArray(b),
                    4L * cOff, 4L * plan.hdrStart()[g], (long) plan.elemStart()[g], 4L * bOff, 4L * ldc, 4L * ldb,
                    (long) (rs + 1) / 2, (long) plan.blocks());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
