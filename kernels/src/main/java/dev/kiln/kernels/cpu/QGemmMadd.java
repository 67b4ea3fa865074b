package dev.kiln.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.kiln.kernels.cpu.x86.JitCode;
import dev.kiln.kernels.cpu.x86.MaddGemmCode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The quantized GEMM on AVX2 machines without VNNI: {@code vpmaddwd} micro-kernels generated as
 * machine code at run time ({@link MaddGemmCode}, installed by {@link JitCode}) and called through
 * the FFM linker with {@code Linker.Option.critical(true)}, so the Java arrays are passed in place.
 *
 * <p>A is widened once per call to 16-bit k-pairs with its zero point subtracted
 * ({@code a - zpA} lies in {@code [-255, 255]} for uint8 and int8 alike), B panel by panel to
 * 16-bit k-pairs of {@link #NR} columns ({@code [pair][column][2]}), so every {@code vpmaddwd}
 * adds two exact products into an int32 lane and no correction terms remain: the accumulators are
 * those of every other path, bit for bit. The kernel's lanes run along the output columns, so its
 * tile is row-major, the layout {@link QGemmEpilogue#store} reads.
 *
 * <p>Why: on Zen 1 the Vector API kernels ({@link QGemmDot}, {@code vpmullw} and three more ops per
 * pair of k-steps) reached about half of what the multiplier pipe allows; this kernel's bare loop
 * runs at 95% of it (44-46 GOP/s, 4 x 24 tiles hot in L1, one core), the same ceiling as the fp32
 * FMAs, since {@code vpmaddwd} has one 128-bit pipe where FMAs have two. 1024 x 1024 weights,
 * batch 64, 1 thread: 5.72-5.79 ms on the Vector API kernels, 3.16-3.25 ms here, 2.92-2.98 ms
 * prepacked; batch 1: 174-180 us, 80-86 us, 53-62 us prepacked (these Zen 1 figures with the
 * earlier 4 x 24 tiles). On Zen 3, which has two pipes for {@code vpmaddwd}, the 6 x 16 tiles of
 * {@link MaddGemmCode#gemm} with B in registers: the dynamic Linear (batch 64, 1024 x 1024, 1
 * thread) at 145 GOP/s, 88% of the bare loop (95.6 GOP/s with the 4 x 24 tiles).
 *
 * <p>Activations in {@code [0, 127]} (uint8 quantized with PyTorch's {@code reduce_range}, as
 * PyTorch's dynamic Linear does) against prepacked weights take the byte kernel instead
 * ({@link #runBytes}, {@link MaddGemmCode#gemmBytes}: {@code vpmaddubsw}, then {@code vpmaddwd}
 * by ones, 64 multiply-adds per three instructions, exact since no pair sum reaches the 16-bit
 * saturation): A's bytes are read as they are, B's as k-quads, and the zero point's share comes
 * off in the epilogue ({@code zpA * colSum(B)}, the sums made once with the panels). Zen 3, 1024 x
 * 1024 weights, batch 64, 1 thread: the dynamic Linear 133 GOP/s with 8-bit activations, 175 with
 * 7-bit ones (2.16x the fp32 Linear in the same run). {@link #sevenBit} decides per call (an OR of
 * A's bytes), so the results never depend on the path.
 *
 * <p>Blocking: per thread, {@link #NB} columns of B are packed at a time (two panels, L2-sized
 * for k up to ~2000) and swept by tiles of {@link #MR} rows of A, {@link #MC} rows through one
 * accumulator tile and the epilogue; with prepacked weights ({@link QGemm.PackedWeights}) the
 * panels are read as they are. Batches under {@link #MIN_M} rows with B as bytes take the
 * lanes-along-k kernel instead ({@link MaddGemmCode#dot}: B read in place and widened by
 * {@code vpmovsxbw} as it is loaded, up to 4 rows x 3 columns of 8 partial sums each, added up in
 * Java), since widening all of B would cost more than their products. Threads take disjoint
 * column (or, for narrow outputs, row) ranges, so results do not depend on the thread count.
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing avx2, the
 * self check passing, the VNNI kernels ({@link QGemmJit}) not running here, and no
 * {@code -Dkiln.int8.jit=false}. Every argument of a downcall is checked in Java first
 * ({@link #kernel}), since a bad address there would crash the JVM rather than throw.
 */
final class QGemmMadd {
    /** Whether the code can run here. */
    static final boolean SUPPORTED;
    /** Whether {@link QGemm} uses it by default. */
    static final boolean ENABLED;

    /** Rows per kernel tile. */
    static final int MR = MaddGemmCode.MAX_ROWS;
    /** Rows per group of the lanes-along-k kernel. */
    static final int DOT_MR = MaddGemmCode.MAX_DOT_ROWS;
    /** Columns per panel (and per full kernel tile). */
    static final int NR = 8 * MaddGemmCode.MAX_NV;
    /** Columns per block: two panels. */
    static final int NB = 2 * NR;
    /** Rows per accumulator tile. */
    static final int MC = 256;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** The row and column terms of {@link QGemmEpilogue#store}: none here (read only). */
    private static final int[] ZEROS = new int[Math.max(NB, MC)];
    /** Rows per tile of the byte kernel ({@link MaddGemmCode#gemmBytes}). */
    static final int BYTE_MR = MaddGemmCode.MAX_BYTE_ROWS;
    /**
     * Whether products whose A values all lie in {@code [0, 127]} take the byte kernel
     * ({@link #runBytes}); {@code kiln.int8.madd.bytes=false} keeps them on the 16-bit one
     * (measurements, tests).
     */
    static final boolean BYTES = Boolean.parseBoolean(System.getProperty("kiln.int8.madd.bytes", "true"));
    /** Kinds of built kernel: {@link MaddGemmCode#gemm}, {@link MaddGemmCode#dot}, {@link MaddGemmCode#gemmBytes}. */
    private static final int GEMM = 0, DOT = 1, GEMM_BYTES = 2;
    /** Built kernels: {@code [kind][rows - 1][nv (or nr) - 1]}. */
    private static final MethodHandle[][][] KERNELS = new MethodHandle[3][Math.max(MR, DOT_MR)][Math.max(MaddGemmCode.MAX_NV, MaddGemmCode.MAX_DOT_NR)];

    static {
        boolean ok = JitCode.usable(QGemmMadd::selfCheck, "avx2");
        SUPPORTED = ok;
        ENABLED = ok && !QGemmJit.SUPPORTED && Boolean.parseBoolean(System.getProperty("kiln.int8.jit", "true"));
    }

    private QGemmMadd() {
    }

    /** A 3-row, 8-column, 3-pair product and a 2-row, 8-column, 2-quad one on bytes against plain Java arithmetic. */
    private static boolean selfCheck() {
        short[] a = new short[3 * 6];
        int[] b = new int[3 * 8];
        int[] c = new int[3 * 8];
        for (int i = 0; i < a.length; i++) {
            a[i] = (short) (i * 37 % 511 - 255);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i * 53 % 256 - 128) & 0xffff | (i * 71 % 256 - 128) << 16;
        }
        kernel(3, 1, 1, 3, MemorySegment.ofArray(a), 0, 6, MemorySegment.ofArray(b), 0, MemorySegment.ofArray(c), 0,
                8);
        byte[] qa = new byte[2 * 8];
        int[] qb = new int[2 * 8];
        int[] qc = new int[2 * 8];
        for (int i = 0; i < qa.length; i++) {
            qa[i] = (byte) (i * 41 % 128);
        }
        for (int i = 0; i < qb.length; i++) {
            qb[i] = i * 0x9E3779B1;
        }
        kernelBytes(2, 1, 1, 2, MemorySegment.ofArray(qa), 0, 8, MemorySegment.ofArray(qb), 0,
                MemorySegment.ofArray(qc), 0, 8);
        for (int r = 0; r < 2; r++) {
            for (int j = 0; j < 8; j++) {
                int want = 0;
                for (int p = 0; p < 8; p++) {
                    want += qa[r * 8 + p] * (byte) (qb[(p >> 2) * 8 + j] >> (8 * (p & 3)));
                }
                if (qc[r * 8 + j] != want) {
                    return false;
                }
            }
        }
        for (int r = 0; r < 3; r++) {
            for (int j = 0; j < 8; j++) {
                int want = 0;
                for (int p = 0; p < 6; p++) {
                    int pair = b[(p >> 1) * 8 + j];
                    want += a[r * 6 + p] * ((p & 1) == 0 ? (short) pair : pair >> 16);
                }
                if (c[r * 8 + j] != want) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Below this many rows B given as bytes (not prepacked) goes through the lanes-along-k kernel
     * ({@link #runFew}) instead of being widened into panels: 1024 x 1024 weights, one Zen 1 core,
     * lanes along k against panels: batch 1 80-86 us against 287-294, 4 242 against 382, 12 686
     * against 873, 24 1262 against 1354, 32 1656 against 1696 (784 x 300: batch 31 381 against 368).
     * {@code kiln.int8.madd.few} (measurements only).
     */
    static final int MIN_M = Integer.getInteger("kiln.int8.madd.few", 32);

    /** Whether {@link QGemm} runs an {@code m x ? x k} problem here ({@code packed}: with prepacked weights). */
    static boolean takes(int m, int k, boolean packed) {
        QGemmJit.Mode md = QGemmJit.mode;
        if (md == QGemmJit.Mode.MADD) {
            if (!SUPPORTED) {
                throw new IllegalStateException("QGemmMadd: forced, but AVX2 code cannot run here");
            }
            return k > 0;
        }
        return md == QGemmJit.Mode.AUTO && ENABLED && k > 0;
    }

    private static MethodHandle kernel(int kind, int rows, int nv) {
        MethodHandle h = KERNELS[kind][rows - 1][nv - 1];
        if (h == null) {
            synchronized (KERNELS) {
                h = KERNELS[kind][rows - 1][nv - 1];
                if (h == null) {
                    byte[] code = kind == DOT ? MaddGemmCode.dot(rows, nv)
                            : kind == GEMM_BYTES ? MaddGemmCode.gemmBytes(rows, nv) : MaddGemmCode.gemm(rows, nv);
                    h = JitCode.function(code, SIGNATURE, Linker.Option.critical(true));
                    KERNELS[kind][rows - 1][nv - 1] = h;
                }
            }
        }
        return h;
    }

    /**
     * One checked downcall of {@link MaddGemmCode#gemm}: {@code tiles} tiles of {@code rows} rows
     * by {@code 8*nv} columns over {@code steps} k-pairs; A at short {@code ai} of {@code a}
     * (rows {@code lda} shorts apart), the panel at int {@code bi} of {@code b} (one k-pair an int), C at int
     * {@code ci} of {@code c} (rows {@code ldc} ints apart), each a whole-array heap segment.
     */
    private static void kernel(int rows, int nv, int tiles, int steps, MemorySegment a, int ai, int lda,
                               MemorySegment b, int bi, MemorySegment c, int ci, int ldc) {
        long r = (long) rows * tiles;
        int w = 8 * nv;
        if (rows < 1 || rows > MR || nv < 1 || nv > MaddGemmCode.MAX_NV || tiles < 1 || steps < 1
                || lda < 2 * steps || ldc < w || ai < 0 || 2 * (ai + (r - 1) * lda + 2L * steps) > a.byteSize()
                || bi < 0 || 4 * (bi + (long) w * steps) > b.byteSize()
                || ci < 0 || 4 * (ci + (r - 1) * ldc + w) > c.byteSize()) {
            throw new IllegalStateException("QGemmMadd: kernel arguments out of bounds: rows=" + rows + " nv=" + nv
                    + " tiles=" + tiles + " steps=" + steps + " a " + ai + "+" + lda + "/" + a.byteSize() + " b " + bi
                    + "/" + b.byteSize() + " c " + ci + "+" + ldc + "/" + c.byteSize());
        }
        call(kernel(GEMM, rows, nv), a, b, c, 2L * ai, 4L * bi, 4L * ci, 2L * lda, 4L * ldc, steps, tiles);
    }

    /**
     * One checked downcall of {@link MaddGemmCode#gemmBytes}: as {@link #kernel(int, int, int, int,
     * MemorySegment, int, int, MemorySegment, int, MemorySegment, int, int)} over {@code steps}
     * k-quads, A at byte {@code ai} of {@code a} (rows {@code lda} bytes apart).
     */
    private static void kernelBytes(int rows, int nv, int tiles, int steps, MemorySegment a, int ai, int lda,
                                    MemorySegment b, int bi, MemorySegment c, int ci, int ldc) {
        long r = (long) rows * tiles;
        int w = 8 * nv;
        if (rows < 1 || rows > BYTE_MR || nv < 1 || nv > MaddGemmCode.MAX_NV || tiles < 1 || steps < 1
                || lda < 4 * steps || ldc < w || ai < 0 || ai + (r - 1) * lda + 4L * steps > a.byteSize()
                || bi < 0 || 4 * (bi + (long) w * steps) > b.byteSize()
                || ci < 0 || 4 * (ci + (r - 1) * ldc + w) > c.byteSize()) {
            throw new IllegalStateException("QGemmMadd: byte kernel arguments out of bounds: rows=" + rows + " nv=" + nv
                    + " tiles=" + tiles + " steps=" + steps + " a " + ai + "+" + lda + "/" + a.byteSize() + " b " + bi
                    + "/" + b.byteSize() + " c " + ci + "+" + ldc + "/" + c.byteSize());
        }
        call(kernel(GEMM_BYTES, rows, nv), a, b, c, ai, 4L * bi, 4L * ci, lda, 4L * ldc, steps, tiles);
    }

    /**
     * One checked downcall of {@link MaddGemmCode#dot}: {@code tiles} tiles of {@code nr} columns
     * (each {@code ldb} bytes after the previous, from byte {@code bo} of {@code b}) against
     * {@code rows} rows of A (from short {@code ai} of {@code a}, {@code lda} shorts apart) over
     * {@code steps} steps of 16, 8 partial sums per output from int {@code ci} of {@code c}.
     */
    private static void dot(int rows, int nr, int tiles, int steps, MemorySegment a, int ai, int lda,
                            MemorySegment b, int bo, int ldb, MemorySegment c, int ci) {
        if (rows < 1 || rows > DOT_MR || nr < 1 || nr > MaddGemmCode.MAX_DOT_NR || tiles < 1 || steps < 1
                || lda < 16 * steps || ldb < 0 || ai < 0 || 2 * (ai + (rows - 1L) * lda + 16L * steps) > a.byteSize()
                || bo < 0 || bo + ((long) tiles * nr - 1) * ldb + 16L * steps > b.byteSize()
                || ci < 0 || 4 * (ci + 8L * tiles * nr * rows) > c.byteSize()) {
            throw new IllegalStateException("QGemmMadd: dot arguments out of bounds: rows=" + rows + " nr=" + nr
                    + " tiles=" + tiles + " steps=" + steps + " a " + ai + "+" + lda + "/" + a.byteSize() + " b " + bo
                    + "+" + ldb + "/" + b.byteSize() + " c " + ci + "/" + c.byteSize());
        }
        call(kernel(DOT, rows, nr), a, b, c, 2L * ai, bo, 4L * ci, 2L * lda, ldb, steps, tiles);
    }

    /** The downcall itself, arguments already checked (byte offsets and strides). */
    private static void call(MethodHandle h, MemorySegment a, MemorySegment b, MemorySegment c, long aOff, long bOff,
                             long cOff, long lda, long ldx, long steps, long tiles) {
        try {
            h.invokeExact(a, b, c, aOff, bOff, cOff, lda, ldx, steps, tiles);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Validated call with {@code 0 < m < MIN_M} rows and {@code n, k > 0}, B as given (not packed):
     * {@link MaddGemmCode#dot} over groups of up to {@link #DOT_MR} rows, A widened once, B read in place
     * (a column whose last step would end past B's array from a copy; A is zero past k, so what B
     * holds there does not matter).
     */
    static void runFew(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                       byte[] b, int bOff, int ldb, int m, int n, int k) {
        int steps = (k + 15) / 16;
        int ldp = pairStride(8 * steps);
        short[] ap = QGemmBuffers.get().pairsA(m * ldp);
        packA(ap, ldp, a, aOff, lda, aUnsigned, zpA, m, k);
        QGemm.overBlocks(m, n, k, MIN_M, NB, (i0, i1, j0, j1) ->
                blockFew(out, ap, ldp, b, bOff, ldb, m, j0, j1, steps));
    }

    /** All {@code m} rows, output columns {@code [j0, j1)}, on the calling thread. */
    private static void blockFew(QGemmEpilogue out, short[] ap, int ldp, byte[] b, int bOff, int ldb, int m,
                                 int j0, int j1, int steps) {
        QGemmBuffers buf = QGemmBuffers.get();
        int nr = MaddGemmCode.MAX_DOT_NR;
        int[] cb = buf.colTile(NB * DOT_MR * 8);
        int[] rb = buf.rowTile(MIN_M * NB);
        MemorySegment aSeg = buf.aSegments.of(ap);
        MemorySegment bSeg = buf.bSegments.of(b);
        MemorySegment cSeg = buf.cSegments.of(cb);
        int span = 16 * steps;
        long lastSafe = (long) b.length - span - bOff;
        long safeCols = lastSafe < 0 ? 0 : lastSafe / ldb + 1;
        for (int jb = j0; jb < j1; jb += NB) {
            int cols = Math.min(NB, j1 - jb);
            int direct = (int) Math.max(0, Math.min(cols, safeCols - jb));
            int full = direct / nr;
            for (int g0 = 0; g0 < m; g0 += DOT_MR) {
                int g = Math.min(DOT_MR, m - g0);
                int ai = g0 * ldp;
                if (full > 0) {
                    dot(g, nr, full, steps, aSeg, ai, ldp, bSeg, bOff + jb * ldb, ldb, cSeg, 0);
                }
                for (int c = full * nr; c < cols; c += nr) {
                    int w = Math.min(nr, cols - c);
                    if (c + w <= direct) {
                        dot(g, w, 1, steps, aSeg, ai, ldp, bSeg, bOff + (jb + c) * ldb, ldb, cSeg, 8 * c * g);
                    } else {
                        byte[] copy = buf.scratchB(w * span);
                        for (int j = 0; j < w; j++) {
                            int from = bOff + (jb + c + j) * ldb;
                            System.arraycopy(b, from, copy, j * span, Math.min(span, b.length - from));
                        }
                        dot(g, w, 1, steps, aSeg, ai, ldp, MemorySegment.ofArray(copy), 0, span, cSeg, 8 * c * g);
                    }
                }
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < g; r++) {
                        int o = 8 * (c * g + r);
                        rb[(g0 + r) * NB + c] = cb[o] + cb[o + 1] + cb[o + 2] + cb[o + 3] + cb[o + 4] + cb[o + 5]
                                + cb[o + 6] + cb[o + 7];
                    }
                }
            }
            out.store(rb, NB, m, cols, 0, jb, ZEROS, ZEROS, buf);
        }
    }

    /**
     * Validated call with {@code m, n, k > 0}; {@code packed} null, or all of B's panels as
     * {@link #packAll} laid them out (B is then not read).
     */
    static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                    byte[] b, int bOff, int ldb, int[] packed, int m, int n, int k) {
        if (packed == null && m < MIN_M) {
            runFew(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
            return;
        }
        int kp = (k + 1) / 2;
        int ldp = pairStride(kp);
        short[] ap = QGemmBuffers.get().pairsA(m * ldp);
        packA(ap, ldp, a, aOff, lda, aUnsigned, zpA, m, k);
        QGemm.overBlocks(m, n, k, MC, NB, (i0, i1, j0, j1) ->
                block(out, ap, ldp, b, bOff, ldb, packed, i0, i1, j0, j1, k));
    }

    /**
     * Shorts between rows of widened A: the pairs rounded up to whole 32-byte vectors, plus one
     * vector where rows would otherwise lie a multiple of 1 KB apart (the rows of a tile then
     * share L1 sets).
     */
    static int pairStride(int kp) {
        int s = (2 * kp + 15) / 16 * 16;
        return s % 512 == 0 ? s + 16 : s;
    }

    /** Output rows {@code [i0, i1)} and columns {@code [j0, j1)} on the calling thread. */
    private static void block(QGemmEpilogue out, short[] ap, int ldp, byte[] b, int bOff, int ldb, int[] packed,
                              int i0, int i1, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kp = (k + 1) / 2;
        int kq = (kp + 7) / 8 * 8;
        int[] panels = packed != null ? packed : buf.pairsB(kq * NB);
        int[] tmp = packed != null ? null : buf.widened(kq * NR);
        int[] rb = buf.rowTile(MC * NB);
        MemorySegment aSeg = buf.aSegments.of(ap);
        MemorySegment pSeg = buf.bSegments.of(panels);
        MemorySegment cSeg = buf.cSegments.of(rb);
        MemorySegment tSeg = tmp == null ? null : buf.tSegments.of(tmp);
        for (int jb = j0; jb < j1; jb += NB) {
            int cols = Math.min(NB, j1 - jb);
            for (int p = 0; packed == null && p * NR < cols; p++) {
                int w = Math.min(NR, cols - p * NR);
                packB(panels, pSeg, kq * NR * p, (w + 7) / 8 * 8, tmp, tSeg, b, bOff + (jb + p * NR) * ldb, ldb, w,
                        k);
            }
            int first = packed == null ? 0 : jb / NR;
            sweep(false, out, aSeg, ldp, pSeg, kq * NR * first, kq * NR, kp, i0, i1, jb, cols, rb, cSeg, ZEROS, buf);
        }
    }

    /**
     * One block of {@code cols <= NB} columns from {@code jb}: rows {@code [i0, i1)} in accumulator
     * tiles of {@link #MC} rows, each of the block's panels (the first at int {@code panel0} of
     * {@code pSeg}, {@code panelInts} apart, {@code steps} k-steps each) swept by tiles of the 16-bit
     * or the byte kernel's rows (A's rows {@code lda} elements apart in {@code aSeg}), then the
     * epilogue with {@code colTerm}.
     */
    private static void sweep(boolean bytes, QGemmEpilogue out, MemorySegment aSeg, int lda, MemorySegment pSeg,
                              int panel0, int panelInts, int steps, int i0, int i1, int jb, int cols, int[] rb,
                              MemorySegment cSeg, int[] colTerm, QGemmBuffers buf) {
        int mr = bytes ? BYTE_MR : MR;
        for (int ic = i0; ic < i1; ic += MC) {
            int rows = Math.min(MC, i1 - ic);
            int full = rows / mr;
            for (int p = 0; p * NR < cols; p++) {
                int nv = (Math.min(NR, cols - p * NR) + 7) / 8;
                int pi = panel0 + panelInts * p;
                if (full > 0) {
                    tiles(bytes, mr, nv, full, steps, aSeg, ic * lda, lda, pSeg, pi, cSeg, p * NR);
                }
                if (rows > full * mr) {
                    tiles(bytes, rows - full * mr, nv, 1, steps, aSeg, (ic + full * mr) * lda, lda, pSeg, pi, cSeg,
                            full * mr * NB + p * NR);
                }
            }
            out.store(rb, NB, rows, cols, ic, jb, ZEROS, colTerm, buf);
        }
    }

    /** {@code tiles} tiles of either kernel into the accumulator tile ({@link #NB} ints a row). */
    private static void tiles(boolean bytes, int rows, int nv, int tiles, int steps, MemorySegment a, int ai, int lda,
                              MemorySegment b, int bi, MemorySegment c, int ci) {
        if (bytes) {
            kernelBytes(rows, nv, tiles, steps, a, ai, lda, b, bi, c, ci, NB);
        } else {
            kernel(rows, nv, tiles, steps, a, ai, lda, b, bi, c, ci, NB);
        }
    }

    /**
     * Whether a product with these activations can take the byte kernel ({@link #runBytes}): the
     * byte path on ({@link #BYTES}), A unsigned (uint8) and every value of its {@code m} rows of
     * {@code k} at most 127, as after dynamic quantization with PyTorch's {@code reduce_range}
     * ({@link QGemm#dynamicQParams(float[], int, int, boolean)}). Reads A once (OR of its bytes).
     */
    static boolean sevenBit(byte[] a, int aOff, int lda, boolean aUnsigned, int m, int k) {
        if (!BYTES || !aUnsigned) {
            return false;
        }
        ByteVector any = ByteVector.zero(B256);
        int tail = 0;
        for (int r = 0; r < m; r++) {
            int s = aOff + r * lda;
            int p = 0;
            for (; p <= k - 32; p += 32) {
                any = any.or(ByteVector.fromArray(B256, a, s + p));
            }
            for (; p < k; p++) {
                tail |= a[s + p];
            }
        }
        return (tail & 0x80) == 0 && !any.lt((byte) 0).anyTrue();
    }

    /** The byte kernel's weights: B's panels as k-quads ({@link #packQuads}) and its column sums. */
    record Quads(int[] panels, int[] colSums) {
    }

    /**
     * {@link #run} on the byte kernel for A whose values all lie in {@code [0, 127]} ({@link
     * #sevenBit}) against prepacked weights ({@link #packQuads}). {@code acc = sum A B - zpA *
     * colSum(B)}, exactly as the 16-bit kernel's {@code sum (A - zpA) B} (int32, wrapping alike).
     */
    static void runBytes(QGemmEpilogue out, byte[] a, int aOff, int lda, int zpA, Quads quads, int m, int n, int k) {
        int kq = (k + 3) / 4;
        int ldq = quadStride(kq);
        byte[] ap = QGemmBuffers.get().quadsA(m * ldq);
        for (int r = 0; r < m; r++) {
            System.arraycopy(a, aOff + r * lda, ap, r * ldq, k);
            java.util.Arrays.fill(ap, r * ldq + k, (r + 1) * ldq, (byte) 0);
        }
        QGemm.overBlocks(m, n, k, MC, NB, (i0, i1, j0, j1) ->
                blockBytes(out, ap, ldq, quads, zpA, i0, i1, j0, j1, k));
    }

    /** Bytes between rows of A's quads: whole 32-byte vectors, plus one where rows would lie a multiple of 1 KB apart. */
    static int quadStride(int kq) {
        int s = (4 * kq + 31) / 32 * 32;
        return s % 1024 == 0 ? s + 32 : s;
    }

    /** Output rows {@code [i0, i1)} and columns {@code [j0, j1)} on the byte kernel, on the calling thread. */
    private static void blockBytes(QGemmEpilogue out, byte[] ap, int ldq, Quads quads, int zpA,
                                   int i0, int i1, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kq = (k + 3) / 4;
        int kq8 = (kq + 7) / 8 * 8;
        int[] rb = buf.rowTile(MC * NB);
        int[] colTerm = buf.colTerm(NB);
        MemorySegment aSeg = buf.aSegments.of(ap);
        MemorySegment pSeg = buf.bSegments.of(quads.panels());
        int[] colSums = quads.colSums();
        MemorySegment cSeg = buf.cSegments.of(rb);
        for (int jb = j0; jb < j1; jb += NB) {
            int cols = Math.min(NB, j1 - jb);
            for (int c = 0; c < cols; c++) {
                colTerm[c] = zpA * colSums[jb + c];
            }
            sweep(true, out, aSeg, ldq, pSeg, kq8 * NR * (jb / NR), kq8 * NR, kq, i0, i1, jb, cols, rb, cSeg, colTerm,
                    buf);
        }
    }

    /**
     * All of B ({@code n} columns of k bytes, column {@code j} at {@code b[bOff + j*ldb]}) as the
     * byte kernel's weights: its column sums, and its panels: panel {@code p} (columns {@code 16p ..}) at int {@code p * kq8 * NR},
     * {@code kq8} the k-quads rounded up to 8, {@code dst[p*kq8*NR + q*width + j]} the
     * little-endian int of the column's bytes {@code 4q .. 4q+3} (zero past k and past the last
     * column), {@code width} the panel's columns rounded up to 8, as the kernel steps through it.
     */
    static Quads packQuads(byte[] b, int bOff, int ldb, int n, int k) {
        int kq = (k + 3) / 4;
        int kq8 = (kq + 7) / 8 * 8;
        int panels = (n + NR - 1) / NR;
        int[] dst = new int[Math.multiplyExact(kq8, NR * panels)];
        int[] tmp = new int[kq8 * NR];
        MemorySegment dSeg = MemorySegment.ofArray(dst);
        MemorySegment tSeg = MemorySegment.ofArray(tmp);
        for (int p = 0; p < panels; p++) {
            int w = Math.min(NR, n - p * NR);
            java.util.Arrays.fill(tmp, 0);
            for (int j = 0; j < w; j++) {
                MemorySegment.copy(MemorySegment.ofArray(b), bOff + (long) (p * NR + j) * ldb, tSeg, 4L * j * kq8, k);
            }
            transposePanel(dst, dSeg, kq8 * NR * p, (w + 7) / 8 * 8, tmp, tSeg, kq8);
        }
        return new Quads(dst, columnSums(b, bOff, ldb, n, k));
    }

    /** B's column sums: {@code sum_p b[bOff + j*ldb + p]} for {@code j < n}. */
    private static int[] columnSums(byte[] b, int bOff, int ldb, int n, int k) {
        int[] sums = new int[n];
        for (int j = 0; j < n; j++) {
            int s = 0;
            for (int p = 0, o = bOff + j * ldb; p < k; p++) {
                s += b[o + p];
            }
            sums[j] = s;
        }
        return sums;
    }

    /**
     * Rows {@code [0, rows)} of A widened to shorts minus {@code zp} at {@code dst[r*ldd]}, zero
     * from k up to the row's next whole vector (so the last pair of an odd k is {@code (x, 0)}).
     */
    static void packA(short[] dst, int ldd, byte[] a, int aOff, int lda, boolean unsigned, int zp, int rows, int k) {
        short z = (short) zp;
        short keep = (short) (unsigned ? 0xff : -1); // sign-extended, then masked: one constant conversion for both types
        int mask = unsigned ? 0xff : -1;
        for (int r = 0; r < rows; r++) {
            int s = aOff + r * lda;
            int d = r * ldd;
            int p = 0;
            for (; p <= k - 16; p += 16) {
                ((ShortVector) ByteVector.fromArray(B128, a, s + p).convertShape(VectorOperators.B2S, S256, 0))
                        .and(keep).sub(z).intoArray(dst, d + p);
            }
            for (; p < k; p++) {
                dst[d + p] = (short) ((a[s + p] & mask) - zp);
            }
            java.util.Arrays.fill(dst, d + k, d + ldd, (short) 0);
        }
    }

    /**
     * All of B ({@code n} columns of k bytes, column {@code j} at {@code b[bOff + j*ldb]}) as the
     * panels {@link #block} reads: panel {@code p} (columns {@code 24p ..}) at int
     * {@code p * kq * NR}, {@code kq} the k-pairs rounded up to 8, each as {@link #packB} lays it
     * out with its columns rounded up to 8.
     */
    static int[] packAll(byte[] b, int bOff, int ldb, int n, int k) {
        int kq = ((k + 1) / 2 + 7) / 8 * 8;
        int panels = (n + NR - 1) / NR;
        int[] dst = new int[Math.multiplyExact(kq, NR * panels)];
        int[] tmp = QGemmBuffers.get().widened(kq * NR);
        MemorySegment dSeg = MemorySegment.ofArray(dst);
        MemorySegment tSeg = MemorySegment.ofArray(tmp);
        for (int p = 0; p < panels; p++) {
            int w = Math.min(NR, n - p * NR);
            packB(dst, dSeg, kq * NR * p, (w + 7) / 8 * 8, tmp, tSeg, b, bOff + p * NR * ldb, ldb, w, k);
        }
        return dst;
    }

    /**
     * One panel: {@code cols <= width} columns of B (column {@code j} at {@code b[bOff + j*ldb]},
     * k bytes) as 16-bit k-pairs, {@code dst[dOff + q*width + j] = B[j][2q] | B[j][2q+1] << 16}
     * (low half first, as the kernel reads shorts) for {@code q < kq}, the pairs rounded up to 8;
     * zero past k and for the columns {@code [cols, width)}. Each column is widened into
     * {@code tmp} ({@code width * kq} ints) along k, then the 8 x 8 transpose code turns the block
     * ({@link TransposeJit#transpose8}, its blocks along the rows; plain Java where it cannot run).
     * Along the rows rather than down the columns: 64 x 1024 x 1024 with B widened per call,
     * Zen 1, 1 thread, 3185-3186 -> 3147-3150 us.
     */
    static void packB(int[] dst, MemorySegment dstSeg, int dOff, int width, int[] tmp, MemorySegment tmpSeg, byte[] b,
                      int bOff, int ldb, int cols, int k) {
        int kp = (k + 1) / 2;
        int kq = (kp + 7) / 8 * 8;
        for (int j = 0; j < width; j++) {
            int t = j * kq;
            if (j >= cols) {
                java.util.Arrays.fill(tmp, t, t + kq, 0);
                continue;
            }
            int s = bOff + j * ldb;
            int p = 0;
            for (; p <= k - 16; p += 16) {
                ((ShortVector) ByteVector.fromArray(B128, b, s + p).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().intoArray(tmp, t + p / 2);
            }
            for (; p + 1 < k; p += 2) {
                tmp[t + p / 2] = b[s + p] & 0xffff | b[s + p + 1] << 16;
            }
            if (p < k) {
                tmp[t + p / 2] = b[s + p] & 0xffff;
            }
            java.util.Arrays.fill(tmp, t + kp, t + kq, 0);
        }
        transposePanel(dst, dstSeg, dOff, width, tmp, tmpSeg, kq);
    }

    /**
     * {@code dst[dOff + q*width + j] = tmp[j*kq + q]} for {@code j < width}, {@code q < kq} (both
     * multiples of 8): a panel's columns, laid along k in {@code tmp}, turned k-step by k-step,
     * through the 8 x 8 transpose code (its blocks along the rows; plain Java where it cannot run).
     */
    private static void transposePanel(int[] dst, MemorySegment dstSeg, int dOff, int width, int[] tmp,
                                       MemorySegment tmpSeg, int kq) {
        if (TransposeJit.CAN8) {
            TransposeJit.transpose8(true, dstSeg, dOff, width, tmpSeg, 0, kq, width / 8, kq / 8);
            return;
        }
        for (int j = 0; j < width; j++) {
            for (int q = 0; q < kq; q++) {
                dst[dOff + q * width + j] = tmp[j * kq + q];
            }
        }
    }
}
