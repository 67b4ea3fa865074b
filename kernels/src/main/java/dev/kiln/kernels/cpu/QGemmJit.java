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
 * (mod 2^32); no row term. Per thread and block of rows (sized so that the packed block stays in
 * L2), A is packed into 64-row strips of 4-byte k-quads ({@code [q][row]}, zero past k and past m);
 * per block of {@code NB} columns, the kernel sweeps the strips with B read in place, one broadcast
 * quad per column and k-quad (the last block's B is copied when its rows end less than a quad
 * before the array does), and the column-major tile goes through {@link QGemmKernel#transpose16}
 * to {@link QGemmEpilogue#store}. Threads take disjoint column (or row) ranges, so results do not
 * depend on the thread count.
 *
 * <p>Used for batches of at least {@link #MIN_M} rows when {@link #ENABLED}: Linux x86-64 with
 * native access, /proc/cpuinfo listing avx512_vnni and avx512bw, and no {@code -Dkiln.int8.jit=false};
 * otherwise {@link QGemm} keeps its Vector API kernels. Every argument of a downcall is checked in Java first ({@link #kernel}), since a bad
 * address there would crash the JVM rather than throw.
 */
final class QGemmJit {
    /** Which path {@link QGemm} takes: its default choice, or one forced (tests). */
    enum Mode { AUTO, VECTOR, JIT }

    /** Whether the VNNI code can run here (see the class comment). */
    static final boolean SUPPORTED;
    /** Whether {@link QGemm} uses it by default. */
    static final boolean ENABLED;
    /** Set by tests only. */
    static volatile Mode mode = Mode.AUTO;
    /** Fewest rows for which the default choice takes this path. */
    static final int MIN_M = 16;

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
    private static final MethodHandle[][] KERNELS = new MethodHandle[VnniGemmCode.MAX_MV][NR];

    static {
        boolean ok = JitCode.AVAILABLE && JitCode.cpuHas("avx512_vnni") && JitCode.cpuHas("avx512bw")
                && JitCode.cpuHas("avx512f");
        if (ok) {
            try {
                kernel(VnniGemmCode.MAX_MV, NR);
            } catch (RuntimeException | LinkageError e) {
                ok = false;
            }
        }
        SUPPORTED = ok;
        ENABLED = ok && Boolean.parseBoolean(System.getProperty("kiln.int8.jit", "true"));
    }

    private QGemmJit() {
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
        return md == Mode.AUTO && ENABLED && m >= MIN_M && k > 0;
    }

    private static MethodHandle kernel(int mv, int nr) {
        MethodHandle h = KERNELS[mv - 1][nr - 1];
        if (h == null) {
            synchronized (KERNELS) {
                h = KERNELS[mv - 1][nr - 1];
                if (h == null) {
                    h = JitCode.function(VnniGemmCode.code(mv, nr), SIGNATURE, Linker.Option.critical(true));
                    KERNELS[mv - 1][nr - 1] = h;
                }
            }
        }
        return h;
    }

    /**
     * One checked downcall: {@code tiles} tiles of {@code nr} columns, rows {@code 16*mv}, k-quads
     * {@code kq}; A at int {@code ai} of {@code at}, B at byte {@code bo} of {@code b} (leading dim
     * {@code ldb}), C at int {@code ci} of {@code cb}, each a whole-array heap segment. See
     * {@link VnniGemmCode} for exactly what is read and written.
     */
    private static void kernel(int mv, int nr, int tiles, int kq, MemorySegment at, int ai, MemorySegment b, int bo,
                               int ldb, MemorySegment cb, int ci) {
        long rows = 16L * mv;
        if (mv < 1 || mv > VnniGemmCode.MAX_MV || nr < 1 || nr > NR || tiles < 1 || kq < 1 || ldb < 0
                || ai < 0 || 4 * (ai + kq * rows) > at.byteSize()
                || bo < 0 || bo + ((long) tiles * nr - 1) * ldb + 4L * kq > b.byteSize()
                || ci < 0 || 4 * (ci + (long) tiles * nr * rows) > cb.byteSize()) {
            throw new IllegalStateException("QGemmJit: kernel arguments out of bounds: mv=" + mv + " nr=" + nr
                    + " tiles=" + tiles + " kq=" + kq + " a " + ai + "/" + at.byteSize() + " b " + bo + "+" + ldb + "/"
                    + b.byteSize() + " c " + ci + "/" + cb.byteSize());
        }
        try {
            kernel(mv, nr).invokeExact(at, b, cb, 4L * ai, (long) bo, 4L * ci, (long) ldb, (long) kq, (long) tiles);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Validated call with {@code m, n, k > 0}. */
    static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        int threads = Parallel.threads();
        int unitsN = (n + NB - 1) / NB;
        int unitsM = (m + MS - 1) / MS;
        boolean parallel = threads > 1 && (long) m * n * k >= Gemm.PARALLEL_MIN_WORK;
        if (!parallel || unitsN >= threads || unitsM < threads) {
            Parallel.forRange(parallel ? unitsN : 1, Gemm.grain((long) m * NB * k), (lo, hi) ->
                    block(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, 0, m, lo * NB,
                            parallel ? Math.min(n, hi * NB) : n, k));
        } else {
            Parallel.forRange(unitsM, Gemm.grain((long) MS * n * k), (lo, hi) ->
                    block(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, lo * MS, Math.min(m, hi * MS), 0, n, k));
        }
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
        // the last quad of B's last row may end past the array: such columns are read from a copy
        long lastSafe = (long) b.length - 4L * kq - bOff;
        int safeCols = lastSafe < 0 ? 0 : (int) Math.min(j1, lastSafe / Math.max(1, ldb) + 1);
        for (int ic = i0; ic < i1; ic += mc) {
            int rows = Math.min(mc, i1 - ic);
            int strips = (rows + MS - 1) / MS;
            int[] at = buf.packedA(strips * MS * kqPad);
            packA(at, buf, a, aOff + ic * lda, lda, aUnsigned, rows, k, kqPad);
            MemorySegment atSeg = MemorySegment.ofArray(at);
            for (int jb = j0; jb < j1; jb += NB) {
                int cols = Math.min(NB, j1 - jb);
                for (int c = 0; c < cols; c++) {
                    colTerm[c] = z == 0 ? 0 : z * (QGemmDot.widen(null, 0, b, bOff + (jb + c) * ldb, k, true) - 128 * k);
                }
                for (int s = 0; s < strips; s++) {
                    int sr = Math.min(MS, rows - s * MS);
                    int mv = (sr + 15) / 16;
                    int ai = s * MS * kqPad;
                    columns(mv, kq, atSeg, ai, b, bSeg, bOff, ldb, jb, cols, safeCols, k, cbSeg, buf);
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

    /** Raw tile of columns {@code [jb, jb+cols)} for one strip, column-major into {@code cb} ({@code 16*mv} apart). */
    private static void columns(int mv, int kq, MemorySegment at, int ai, byte[] b, MemorySegment bSeg, int bOff,
                                int ldb, int jb, int cols, int safeCols, int k, MemorySegment cb, QGemmBuffers buf) {
        int ms = 16 * mv;
        int full = cols / NR;
        int direct = Math.max(0, Math.min(cols, safeCols - jb));
        int fullDirect = Math.min(full, direct / NR);
        if (fullDirect > 0) {
            kernel(mv, NR, fullDirect, kq, at, ai, bSeg, bOff + jb * ldb, ldb, cb, 0);
        }
        for (int c = fullDirect * NR; c < cols; c += NR) {
            int nr = Math.min(NR, cols - c);
            if (c + nr <= direct) {
                kernel(mv, nr, 1, kq, at, ai, bSeg, bOff + (jb + c) * ldb, ldb, cb, c * ms);
            } else {
                byte[] copy = buf.scratchB(nr * 4 * kq);
                for (int j = 0; j < nr; j++) {
                    System.arraycopy(b, bOff + (jb + c + j) * ldb, copy, j * 4 * kq, k);
                }
                kernel(mv, nr, 1, kq, at, ai, MemorySegment.ofArray(copy), 0, 4 * kq, cb, c * ms);
            }
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
                    quads(wide, r * kqPad, a, aOff + (g + r) * lda, k, kqPad, !aUnsigned);
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

    /** {@code src[sOff : sOff+k]} as 4-byte quads into {@code dst[dOff : dOff+kqPad]}, zero past k, {@code flip} adding 128. */
    private static void quads(int[] dst, int dOff, byte[] src, int sOff, int k, int kqPad, boolean flip) {
        byte bias = flip ? (byte) 0x80 : 0;
        int full = k & -64;
        int p = 0;
        for (; p < full; p += 64) {
            ByteVector.fromArray(B64, src, sOff + p).lanewise(VectorOperators.XOR, bias).reinterpretAsInts()
                    .intoArray(dst, dOff + p / 4);
        }
        for (; p < 4 * kqPad; p += 64) {
            VectorMask<Byte> in = B64.indexInRange(p, k);
            ByteVector.fromArray(B64, src, sOff + p, in).lanewise(VectorOperators.XOR, bias, in).reinterpretAsInts()
                    .intoArray(dst, dOff + p / 4);
        }
    }
}
