package dev.kiln.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.x86.JitCode;
import dev.kiln.kernels.cpu.x86.VnniGemmCode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The quantized GEMM on {@code vpdpbusd} (AVX512_VNNI): the micro-kernel is x86-64 machine code
 * generated at run time ({@link VnniGemmCode}, installed by {@link JitCode}) and called through the
 * FFM linker with {@code Linker.Option.critical(true)}, so the Java arrays are passed in place.
 *
 * <p>{@code vpdpbusd} multiplies unsigned bytes by signed bytes, so A goes unsigned,
 * {@code A_u = A} (uint8) or {@code A + 128} (int8), and B stays as it is: with {@code z = zpA}
 * (uint8) or {@code zpA + 128} (int8), {@code acc = sum A_u B - z * colSum(B)}, exactly in int32
 * (mod 2^32); no row term. The column sums come from the lanes-along-k kernel with a row of ones.
 *
 * <p>Batches of {@link #MIN_M} rows or more: per thread and block of rows (sized so that the
 * packed block stays in L2), A is packed into 64-row strips of 4-byte k-quads ({@code [q][row]},
 * zero past k and past m); per block of {@code NB} columns, {@link VnniGemmCode#gemm} sweeps the
 * strips with B read in place, one broadcast quad per column and k-quad, and the column-major tile
 * goes through {@link QGemmKernel#transpose16} to {@link QGemmEpilogue#store}. Fewer rows (a
 * GEMV-like batch would waste most of 16 lanes) take {@link VnniGemmCode#dot}: lanes along k, 64
 * bytes of each of up to 6 columns of B per step against up to 7 rows of A (the row of ones for
 * the column sums riding along), 16 partial sums per output added up in Java. Where a column's last
 * step would end past B's array, that column is read from a copy. Threads take disjoint column
 * (or row) ranges, so results do not depend on the thread count.
 *
 * <p>Measured on the shared 2-core Zen 5 VM (1 thread, 1024 x 1024 weights, min of 200-300 calls
 * after warm-up): batch 64 {@code gemmDequant} 193-211 us (650-700 GOP/s) against 805-940 us for
 * the fp32 {@code sgemm} (3.9-4.6x) and 750-790 us on the Vector API int8 kernels; the whole dynamic
 * Linear (parameters, quantize, GEMM) 205-228 us. With {@code zpA = 0} (no column sums) 172-205
 * us, 70-75% of a bare 24-chain {@code vpdpbusd} loop in the same process (930-945 GOP/s, the
 * bench's int8 peak {@code Peak.int8Vnni}); the rest is packing, the transposes and the epilogue.
 * Batches 1, 4, 8, 11: 17-20, 26, 54, 66 us against 37-46, 75-91, 131, 181 us.
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing
 * avx512_vnni and avx512bw, and no {@code -Dkiln.int8.jit=false}; otherwise {@link QGemm} keeps its
 * Vector API kernels. Every argument of a downcall is checked in Java first ({@link #kernel}),
 * since a bad address there would crash the JVM rather than throw.
 */
final class QGemmJit {
    /**
     * Which path {@link QGemm} takes: its default choice, or one forced (tests): the Vector API
     * kernels, these VNNI kernels, or the AVX2 {@code vpmaddwd} kernels of {@link QGemmMadd}.
     */
    enum Mode { AUTO, VECTOR, JIT, MADD }

    /** Whether the VNNI code can run here (see the class comment). */
    static final boolean SUPPORTED;
    /** Whether {@link QGemm} uses it by default. */
    static final boolean ENABLED;
    /** Set by tests only. */
    static volatile Mode mode = Mode.AUTO;
    /** Fewest rows for the lanes-along-rows kernel; fewer take the lanes-along-k one. */
    static final int MIN_M = 12;

    /** Rows per strip (4 vectors of 16 int32 lanes). */
    static final int MS = 64;
    /** Columns per kernel tile. */
    static final int NR = VnniGemmCode.MAX_NR;
    /** Columns per epilogue block: a multiple of {@code NR} and of 16. */
    static final int NB = 48;
    private static final int PACKED_A_BYTES = 1 << 19;
    private static final int MC_MAX = 512;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_512;
    private static final FunctionDescriptor SIGNATURE =
            FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG);
    /** Built kernels: {@code [dot ? 1 : 0][rows - 1][nr - 1]}. */
    private static final MethodHandle[][][] KERNELS = new MethodHandle[2][VnniGemmCode.MAX_DOT_ROWS][NR];

    static {
        boolean ok = JitCode.usable(QGemmJit::selfCheck, "avx512_vnni", "avx512bw", "avx512f");
        SUPPORTED = ok;
        ENABLED = ok && Boolean.parseBoolean(System.getProperty("kiln.int8.jit", "true"));
    }

    private QGemmJit() {
    }

    /** One 16-row, 1-column, 1-quad product against plain Java arithmetic. */
    private static boolean selfCheck() {
        byte[] a = new byte[64];
        byte[] b = {-128, 127, -3, 5};
        int[] c = new int[16];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) (i * 29 + 200);
        }
        kernel(false, 1, 1, 1, 1, MemorySegment.ofArray(a), 0, MemorySegment.ofArray(b), 0, 4,
                MemorySegment.ofArray(c), 0);
        for (int r = 0; r < 16; r++) {
            int want = 0;
            for (int e = 0; e < 4; e++) {
                want += (a[4 * r + e] & 0xff) * b[e];
            }
            if (c[r] != want) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@link QGemm} runs an {@code m x ? x k} problem here. */
    static boolean takes(int m, int k) {
        Mode md = mode;
        if (md == Mode.JIT) {
            if (!SUPPORTED) {
                throw new IllegalStateException("QGemmJit: forced, but VNNI code cannot run here");
            }
            return k > 0;
        }
        return md == Mode.AUTO && ENABLED && k > 0;
    }

    private static MethodHandle kernel(boolean dot, int rows, int nr) {
        MethodHandle h = KERNELS[dot ? 1 : 0][rows - 1][nr - 1];
        if (h == null) {
            synchronized (KERNELS) {
                h = KERNELS[dot ? 1 : 0][rows - 1][nr - 1];
                if (h == null) {
                    byte[] code = dot ? VnniGemmCode.dot(rows, nr) : VnniGemmCode.gemm(rows, nr);
                    h = JitCode.function(code, SIGNATURE, Linker.Option.critical(true));
                    KERNELS[dot ? 1 : 0][rows - 1][nr - 1] = h;
                }
            }
        }
        return h;
    }

    /**
     * One checked downcall of {@link VnniGemmCode#gemm} ({@code dot} false: {@code rows} vectors of
     * 16 rows, k-quads) or {@link VnniGemmCode#dot} ({@code rows} rows, 64-byte chunks):
     * {@code tiles} tiles of {@code nr} columns over {@code steps} steps; A at int {@code ai} of
     * {@code at}, B at byte {@code bo} of {@code b} (leading dim {@code ldb}), C at int {@code ci}
     * of {@code cb}, each a whole-array heap segment. See {@link VnniGemmCode} for exactly what is
     * read and written.
     */
    private static void kernel(boolean dot, int rows, int nr, int tiles, int steps, MemorySegment at, int ai,
                               MemorySegment b, int bo, int ldb, MemorySegment cb, int ci) {
        long r = dot ? rows : 16L * rows;
        long stepBytes = dot ? 64 : 4;
        long lanes = dot ? 16 : 1;
        if (rows < 1 || rows > (dot ? VnniGemmCode.MAX_DOT_ROWS : VnniGemmCode.MAX_MV) || nr < 1
                || nr > VnniGemmCode.maxNr(rows) || tiles < 1 || steps < 1 || ldb < 0
                || ai < 0 || 4L * ai + steps * stepBytes * r > at.byteSize()
                || bo < 0 || bo + ((long) tiles * nr - 1) * ldb + stepBytes * steps > b.byteSize()
                || ci < 0 || 4 * (ci + (long) tiles * nr * r * lanes) > cb.byteSize()) {
            throw new IllegalStateException("QGemmJit: kernel arguments out of bounds: " + (dot ? "dot" : "gemm")
                    + " rows=" + rows + " nr=" + nr + " tiles=" + tiles + " steps=" + steps + " a " + ai + "/"
                    + at.byteSize() + " b " + bo + "+" + ldb + "/" + b.byteSize() + " c " + ci + "/" + cb.byteSize());
        }
        try {
            kernel(dot, rows, nr).invokeExact(at, b, cb, 4L * ai, (long) bo, 4L * ci, (long) ldb, (long) steps,
                    (long) tiles);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Validated call with {@code m, n, k > 0}. */
    static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        if (m < MIN_M) {
            runFew(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
            return;
        }
        QGemm.overBlocks(m, n, k, MS, NB, (i0, i1, j0, j1) ->
                block(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, i0, i1, j0, j1, k));
    }

    /** Output rows {@code [i0, i1)} and columns {@code [j0, j1)} on the calling thread. */
    private static void block(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                              byte[] b, int bOff, int ldb, int i0, int i1, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kq = (k + 3) / 4;
        int kqPad = (kq + 15) / 16 * 16;
        int z = aUnsigned ? zpA : zpA + 128;
        int mc = Math.clamp(PACKED_A_BYTES / (4L * kqPad) / MS * MS, MS, MC_MAX);
        int[] colTerm = buf.colTerm(NB);
        int[] cb = buf.colTile(NB * MS);
        MemorySegment cbSeg = MemorySegment.ofArray(cb);
        MemorySegment bSeg = MemorySegment.ofArray(b);
        int[] rb = buf.rowTile(MS * NB);
        int[] rowTerm = buf.rowTerm(MS);
        java.util.Arrays.fill(rowTerm, 0, MS, 0);
        int kc = (k + 63) / 64;
        MemorySegment ones = z == 0 ? null : ones(buf, k, kc);
        for (int ic = i0; ic < i1; ic += mc) {
            int rows = Math.min(mc, i1 - ic);
            int strips = (rows + MS - 1) / MS;
            int[] at = buf.packedA(strips * MS * kqPad);
            packA(at, buf, a, aOff + ic * lda, lda, aUnsigned, rows, k, kqPad);
            MemorySegment atSeg = MemorySegment.ofArray(at);
            for (int jb = j0; jb < j1; jb += NB) {
                int cols = Math.min(NB, j1 - jb);
                colTerms(colTerm, z, b, bSeg, bOff, ldb, jb, cols, k, kc, ones, cbSeg, cb, buf);
                for (int s = 0; s < strips; s++) {
                    int sr = Math.min(MS, rows - s * MS);
                    int mv = (sr + 15) / 16;
                    int ai = s * MS * kqPad;
                    columns(false, mv, kq, atSeg, ai, b, bSeg, bOff, ldb, jb, cols, k, cbSeg, buf);
                    int ms = 16 * mv;
                    for (int c0 = 0; c0 < cols; c0 += 16) {
                        for (int r0 = 0; r0 < ms; r0 += 16) {
                            QGemmKernel.transpose16(cb, c0 * ms + r0, ms, rb, r0 * NB + c0, NB);
                        }
                    }
                    out.store(rb, NB, sr, cols, ic + s * MS, jb, rowTerm, colTerm, buf);
                }
            }
        }
    }

    /**
     * Raw results of columns {@code [jb, jb+cols)} for one block of packed A, column-major into
     * {@code cb} ({@code 16*rows} ints per column): {@link VnniGemmCode#gemm} ({@code rows} vectors
     * of 16 rows, {@code steps} k-quads) or {@link VnniGemmCode#dot} ({@code rows} rows of 16
     * partial sums, {@code steps} 64-byte chunks). B is read in place where a column's steps end
     * inside the array, else from a copy (A is zero past k, so what follows k does not matter).
     */
    private static void columns(boolean dot, int rows, int steps, MemorySegment at, int ai, byte[] b,
                                MemorySegment bSeg, int bOff, int ldb, int jb, int cols, int k, MemorySegment cb,
                                QGemmBuffers buf) {
        int span = (dot ? 64 : 4) * steps;
        long lastSafe = (long) b.length - span - bOff;
        long safeCols = lastSafe < 0 ? 0 : lastSafe / ldb + 1;
        int direct = (int) Math.max(0, Math.min(cols, safeCols - jb));
        int ms = 16 * rows;
        int w = VnniGemmCode.maxNr(rows);
        int fullDirect = Math.min(cols / w, direct / w);
        if (fullDirect > 0) {
            kernel(dot, rows, w, fullDirect, steps, at, ai, bSeg, bOff + jb * ldb, ldb, cb, 0);
        }
        for (int c = fullDirect * w; c < cols; c += w) {
            int nr = Math.min(w, cols - c);
            if (c + nr <= direct) {
                kernel(dot, rows, nr, 1, steps, at, ai, bSeg, bOff + (jb + c) * ldb, ldb, cb, c * ms);
            } else {
                byte[] copy = buf.scratchB(nr * span);
                for (int j = 0; j < nr; j++) {
                    System.arraycopy(b, bOff + (jb + c + j) * ldb, copy, j * span, k);
                }
                kernel(dot, rows, nr, 1, steps, at, ai, MemorySegment.ofArray(copy), 0, span, cb, c * ms);
            }
        }
    }

    /**
     * {@code colTerm[c] = z * colSum(B)} for columns {@code [jb, jb+cols)}: the dot kernel with a
     * row of ones ({@code ones}, {@code kc} 64-byte chunks, zero past k).
     */
    private static void colTerms(int[] colTerm, int z, byte[] b, MemorySegment bSeg, int bOff, int ldb, int jb,
                                 int cols, int k, int kc, MemorySegment ones, MemorySegment cbSeg, int[] cb,
                                 QGemmBuffers buf) {
        if (z == 0) {
            java.util.Arrays.fill(colTerm, 0, cols, 0);
            return;
        }
        columns(true, 1, kc, ones, 0, b, bSeg, bOff, ldb, jb, cols, k, cbSeg, buf);
        for (int c = 0; c < cols; c++) {
            colTerm[c] = z * sum16(cb, 16 * c);
        }
    }

    /** The 16 partial sums of one dot-kernel accumulator. */
    private static int sum16(int[] v, int off) {
        return IntVector.fromArray(IntVector.SPECIES_512, v, off).reduceLanes(VectorOperators.ADD);
    }

    /** A row of {@code k} ones in {@code kc} 64-byte chunks, zero past k. */
    private static MemorySegment ones(QGemmBuffers buf, int k, int kc) {
        int[] ones = buf.onesA(16 * kc);
        java.util.Arrays.fill(ones, 0, 16 * kc, 0);
        java.util.Arrays.fill(ones, 0, k / 4, 0x01010101);
        if (k % 4 != 0) {
            ones[k / 4] = 0x01010101 >>> (8 * (4 - k % 4));
        }
        return MemorySegment.ofArray(ones);
    }

    /** Validated call with {@code 0 < m < MIN_M} rows and {@code n, k > 0}: the lanes-along-k kernel. */
    static void runFew(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                       byte[] b, int bOff, int ldb, int m, int n, int k) {
        boolean parallel = Parallel.threads() > 1 && (long) m * n * k >= Gemm.PARALLEL_MIN_WORK;
        int units = (n + NB - 1) / NB;
        Parallel.forRange(parallel ? units : 1, Gemm.grain((long) m * NB * k), (lo, hi) ->
                blockFew(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, lo * NB,
                        parallel ? Math.min(n, hi * NB) : n, k));
    }

    /**
     * All {@code m < MIN_M} rows, output columns {@code [j0, j1)}, on the calling thread: the rows
     * (and the row of ones when {@code z != 0}) in groups of up to {@code MAX_DOT_ROWS}, each group
     * one pass over the block's columns of B.
     */
    private static void blockFew(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                                 byte[] b, int bOff, int ldb, int m, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kc = (k + 63) / 64;
        int z = aUnsigned ? zpA : zpA + 128;
        int total = m + (z == 0 ? 0 : 1);
        int gmax = VnniGemmCode.MAX_DOT_ROWS;
        int[] at = buf.packedA(16 * kc * total);
        for (int r = 0; r < total; r++) {
            int first = r / gmax * gmax;
            int g = Math.min(gmax, total - first);
            int base = 16 * kc * first + 16 * (r - first);
            if (r < m) {
                chunks(at, base, 16 * g, a, aOff + r * lda, k, kc, !aUnsigned, false);
            } else {
                chunks(at, base, 16 * g, null, 0, k, kc, false, true);
            }
        }
        MemorySegment atSeg = MemorySegment.ofArray(at);
        MemorySegment bSeg = MemorySegment.ofArray(b);
        int[] cb = buf.colTile(NB * 16 * gmax);
        MemorySegment cbSeg = MemorySegment.ofArray(cb);
        int[] rb = buf.rowTile(MIN_M * NB);
        int[] colTerm = buf.colTerm(NB);
        int[] rowTerm = buf.rowTerm(MIN_M);
        java.util.Arrays.fill(rowTerm, 0, MIN_M, 0);
        for (int jb = j0; jb < j1; jb += NB) {
            int cols = Math.min(NB, j1 - jb);
            for (int first = 0; first < total; first += gmax) {
                int g = Math.min(gmax, total - first);
                columns(true, g, kc, atSeg, 16 * kc * first, b, bSeg, bOff, ldb, jb, cols, k, cbSeg, buf);
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < g; r++) {
                        int sum = sum16(cb, (c * g + r) * 16);
                        if (first + r < m) {
                            rb[(first + r) * NB + c] = sum;
                        } else {
                            colTerm[c] = z * sum;
                        }
                    }
                }
            }
            if (z == 0) {
                java.util.Arrays.fill(colTerm, 0, cols, 0);
            }
            out.store(rb, NB, m, cols, 0, jb, rowTerm, colTerm, buf);
        }
    }

    /**
     * The bytes of {@code src[sOff : sOff+k]} ({@code flip} adding 128), or ones with {@code ones},
     * in {@code kc} 64-byte chunks, zero past k: chunk {@code p} at int {@code base + p*stride}. With
     * {@code stride} 16 that is one row's k-quads in order (the strip packing's rows); with
     * {@code 16*g} one row of a group of {@code g} rows interleaved per chunk (the dot kernel's A).
     */
    private static void chunks(int[] dst, int base, int stride, byte[] src, int sOff, int k, int kc, boolean flip,
                               boolean ones) {
        byte bias = flip ? (byte) 0x80 : 0;
        int full = ones ? 0 : k / 64;
        for (int p = 0; p < full; p++) {
            ByteVector.fromArray(B64, src, sOff + 64 * p).lanewise(VectorOperators.XOR, bias).reinterpretAsInts()
                    .intoArray(dst, base + p * stride);
        }
        for (int p = full; p < kc; p++) {
            VectorMask<Byte> in = B64.indexInRange(64 * p, k);
            ByteVector v = ones ? ByteVector.broadcast(B64, (byte) 1).blend(0, in.not())
                    : ByteVector.fromArray(B64, src, sOff + 64 * p, in).lanewise(VectorOperators.XOR, bias, in);
            v.reinterpretAsInts().intoArray(dst, base + p * stride);
        }
    }

    /**
     * Packs rows {@code [0, rows)} of A (at {@code a[aOff + i*lda]}) as unsigned bytes in 64-row
     * strips of k-quads: the quad {@code q} of row {@code s*64 + r} at int {@code s*64*kqPad + q*ms + r},
     * {@code ms} the strip's rows rounded up to 16; zero past k and past {@code rows}.
     */
    private static void packA(int[] at, QGemmBuffers buf, byte[] a, int aOff, int lda, boolean aUnsigned,
                              int rows, int k, int kqPad) {
        int[] wide = buf.widened(16 * kqPad);
        for (int g = 0; g < rows; g += 16) {
            int s = g / MS;
            int ms = Math.min(MS, (rows - s * MS + 15) / 16 * 16);
            for (int r = 0; r < 16; r++) {
                if (g + r < rows) {
                    chunks(wide, r * kqPad, 16, a, aOff + (g + r) * lda, k, kqPad / 16, !aUnsigned, false);
                } else {
                    java.util.Arrays.fill(wide, r * kqPad, (r + 1) * kqPad, 0);
                }
            }
            int strip = s * MS * kqPad + g % MS;
            for (int q0 = 0; q0 < kqPad; q0 += 16) {
                QGemmKernel.transpose16(wide, q0, kqPad, at, strip + q0 * ms, ms);
            }
        }
    }
}
