package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.F;
import static dev.kiln.kernels.cpu.GemmMicro.L;
import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing for the blocked GEMM: copies a block of {@code op(A)} into {@code MR}-high row strips
 * and a panel of {@code op(B)} into {@code NR}-wide column strips, whatever the transposition, so
 * that the micro-kernel reads both with unit stride. Partial strips are padded with zeros.
 *
 * <p>Where packing transposes (A not transposed, B transposed), full groups of 8 rows go through
 * 8 x 8 register transposes on 256-bit vectors (three rounds of two-source shuffles): on Zen 5
 * about 0.19 ns per float against 1.1 for 16-lane gathers and 0.35 for scalar copies, which made
 * a GEMM with B transposed as fast as one without. The rest is copied element by element.
 * The two-vector {@code selectFrom} (index vectors instead of shuffles) measured slower: a sparse
 * product's 64x1024 pack 12 against 8-10 us, a transposed 1024x1024 B 214-231 against 200-220 us.
 */
final class GemmPack {
    /** 8-float vectors for the register transposes, or null where the machine has no 256-bit vectors. */
    private static final VectorSpecies<Float> T8 =
            VectorShape.preferredShape().vectorBitSize() >= 256 ? FloatVector.SPECIES_256 : null;
    /** Shuffles of the three transpose rounds (indices 8..15 select from the second vector). */
    private static final VectorShuffle<Float> LO1 = shuffle(0, 8, 1, 9, 4, 12, 5, 13);
    private static final VectorShuffle<Float> HI1 = shuffle(2, 10, 3, 11, 6, 14, 7, 15);
    private static final VectorShuffle<Float> LO2 = shuffle(0, 1, 8, 9, 4, 5, 12, 13);
    private static final VectorShuffle<Float> HI2 = shuffle(2, 3, 10, 11, 6, 7, 14, 15);
    private static final VectorShuffle<Float> LO4 = shuffle(0, 1, 2, 3, 8, 9, 10, 11);
    private static final VectorShuffle<Float> HI4 = shuffle(4, 5, 6, 7, 12, 13, 14, 15);

    private GemmPack() {
    }

    private static VectorShuffle<Float> shuffle(int... lanes) {
        return T8 == null ? null : VectorShuffle.fromValues(T8, lanes);
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    static final class Buffers {
        private static final ThreadLocal<Buffers> LOCAL = ThreadLocal.withInitial(Buffers::new);

        private float[] a = new float[0];
        private float[] b = new float[0];
        /** One {@code MR x NR} tile for edge tiles of C. */
        final float[] tile = new float[MR * NR];

        static Buffers get() {
            return LOCAL.get();
        }

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] b(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }

    /**
     * Packs {@code op(A)[i0 : i0+mc, p0 : p0+kc]} into {@code ap}: strip {@code s} holds rows
     * {@code i0 + s*MR ...} as {@code ap[s*MR*kc + p*MR + i]}.
     */
    static void packA(float[] ap, boolean transA, float[] a, int aOff, int lda, int i0, int p0, int mc, int kc) {
        int jitCols = 0;
        int jitRows = 0;
        if (JIT_PACK5 && !transA && mc >= MR && kc > 8) {
            int blocks = (kc - 1) / 8;
            jitRows = mc / MR * MR;
            jitCols = 8 * blocks;
            TransposeJit.packRows5(ap, 0, kc * MR, a, aOff + i0 * lda + p0, lda, blocks, jitRows / MR);
        }
        for (int s = 0; s < mc; s += MR) {
            int mr = Math.min(MR, mc - s);
            int base = s * kc;
            if (transA && mr == MR) {
                copyRowsMR(ap, base, a, aOff + p0 * lda + i0 + s, lda, kc);
            } else if (transA) {
                int src = aOff + p0 * lda + i0 + s;
                for (int p = 0; p < kc; p++, src += lda) {
                    int dst = base + p * MR;
                    for (int i = 0; i < mr; i++) {
                        ap[dst + i] = a[src + i];
                    }
                }
            } else if (s < jitRows) {
                // the columns past the generated code's blocks of 8
                columnsOfRows(ap, base + jitCols * MR, a, aOff + (i0 + s) * lda + p0 + jitCols, lda, kc - jitCols);
            } else {
                int row0 = aOff + (i0 + s) * lda + p0;
                int rows = mr == MR ? transposeRows(true, ap, base, MR, a, row0, lda, MR, kc) : 0;
                if (rows == 0 && mr == MR) {
                    columnsOfRows(ap, base, a, row0, lda, kc);
                    rows = MR;
                }
                for (int i = rows; i < mr; i++) {
                    int src = row0 + i * lda;
                    for (int p = 0, dst = base + i; p < kc; p++, dst += MR) {
                        ap[dst] = a[src + p];
                    }
                }
            }
            if (mr < MR) {
                for (int p = 0; p < kc; p++) {
                    for (int i = mr; i < MR; i++) {
                        ap[base + p * MR + i] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(B)[p0 : p0+kc, j0 : j0+nc]} into {@code bp}: strip {@code s} holds columns
     * {@code j0 + s*NR ...} as {@code bp[s*NR*kc + p*NR + j]}.
     */
    static void packB(float[] bp, boolean transB, float[] b, int bOff, int ldb, int p0, int j0, int kc, int nc) {
        packB(bp, 0, transB, b, bOff, ldb, p0, j0, kc, nc);
    }

    /** {@link #packB} into {@code bp} from {@code bpOff}. */
    static void packB(float[] bp, int bpOff, boolean transB, float[] b, int bOff, int ldb, int p0, int j0, int kc,
                      int nc) {
        int first = 0;
        if (!transB) {
            first = nc / NR * NR;
            copyBandsNR(bp, bpOff, b, bOff + p0 * ldb + j0, ldb, kc, first);
        }
        for (int s = first; s < nc; s += NR) {
            int nr = Math.min(NR, nc - s);
            int base = bpOff + s * kc;
            if (transB) {
                int rows = transposeRows(true, bp, base, NR, b, bOff + (j0 + s) * ldb + p0, ldb, nr, kc);
                for (int j = rows; j < nr; j++) {
                    int src = bOff + (j0 + s + j) * ldb + p0;
                    for (int p = 0, dst = base + j; p < kc; p++, dst += NR) {
                        bp[dst] = b[src + p];
                    }
                }
            } else {
                int src = bOff + p0 * ldb + j0 + s;
                for (int p = 0, dst = base; p < kc; p++, src += ldb, dst += NR) {
                    for (int j = 0; j < nr; j++) {
                        bp[dst + j] = b[src + j];
                    }
                }
            }
            if (nr < NR) {
                for (int p = 0; p < kc; p++) {
                    for (int j = nr; j < NR; j++) {
                        bp[base + p * NR + j] = 0f;
                    }
                }
            }
        }
    }

    /*
     * The plain copies below (System.arraycopy, a loop of 8) avoid the Vector API: with fromArray /
     * intoArray, a copy first taken after C2 had compiled the transposing code (a 512^3 GEMM, or a
     * Linear 1024->1024 after 784->300, once the B of the first shapes had been read in place) ran
     * with boxed vectors for good, 1.3 to 5.6 MB allocated per call (the store intrinsic failed on
     * a profile that had seen 256-bit vectors). Packing a 1024x1024 B: 205-209 us against 223-315;
     * the transposed A of the 300x784x64 weight gradient: 163-166 us against 161-163.
     */

    /**
     * Whether {@link #copyBandsNR} copies through {@link TransposeJit#copyStrips} (generated code,
     * two ymm loads and stores per row) instead of {@code System.arraycopy}: where a strip's row is
     * 16 floats (256-bit vectors) and the code runs. A row is 64 bytes there, and {@code arraycopy}'s
     * call cost most of the time: Zen 1, 1 thread, the 64 strips of a 1024 x 1024 B (rows 4 KB
     * apart) packed one at a time, 687-699 us against 345-350 (then with the tiles of 64 x 1024 x
     * 1024 with B untransposed, a Linear layer's input gradient: 3.65 -> 3.34-3.35 ms; class-loader
     * A/B in one JVM 3.93 -> 3.37 ms). A Vector API copy (two
     * {@code fromArray}/{@code intoArray} per row) ran at about the generated code's rate, but after
     * a JIT history of other shapes (a Linear 784 -> 300 trained first) it boxed its vectors for good:
     * 6.3 MB and 4.7 ms per 64 x 1024 x 1024 product instead of 14 KB (argument wrappers of the 64
     * calls) and 3.4-4.1 ms ({@code LinearAllocationTest} in the engine module; see also the
     * note above).
     */
    private static final boolean JIT_COPY = NR == 16 && TransposeJit.COPY_STRIPS;

    /**
     * Whether {@link #packA} packs the full 5-row strips of an untransposed A through
     * {@link TransposeJit#packRows5} (generated code: 8 columns at a time through two in-lane
     * 4 x 4 register transposes) rather than element by element ({@link #columnsOfRows}): where
     * the micro-kernel's strips have 5 rows (16 vector registers) and the code runs. Zen 1, 1 thread:
     * the A blocks of {@code sgemm} 2048^3 (8M floats, A read from memory) 12-14 ms -> 3.6-3.9 ms,
     * some 2% of the product's 390-400 ms.
     */
    private static final boolean JIT_PACK5 = MR == 5 && TransposeJit.PACK_ROWS5;

    /** Rows of B that {@link #copyBandsNR} copies into every strip before going on to the next rows. */
    private static final int BAND = dev.kiln.kernels.cpu.x86.TransposeCode.COPY_BAND;

    /**
     * The full strips of an untransposed B: {@code kc} rows of {@code cols} floats (a multiple of
     * {@code NR}), {@code ld} apart from {@code src}, to strip {@code s} at {@code dst[dOff + s*kc + p*NR + j]}.
     * Bands of {@link #BAND} rows go to every strip in turn, so B is read along its rows (a few KB
     * at a time) rather than down one strip's column of 64-byte pieces a row apart, which left the
     * rest of each line to be fetched again for the next strip. Zen 1, 1 thread, B of 1024 x 1024
     * packed inside {@code sgemm} 1024^3 (cold, as there): 1.75-1.98 ms strip by strip, 1.03-1.11
     * with bands of 8 rows (4 rows 1.06-1.13, 16 rows 0.96-0.98).
     */
    private static void copyBandsNR(float[] dst, int dOff, float[] src, int sOff, int ld, int kc, int cols) {
        int p0 = 0;
        if (JIT_COPY && cols > 0 && kc >= BAND) {
            TransposeJit.copyStrips(dst, dOff, kc * NR, src, sOff, ld, kc / BAND, cols / NR);
            p0 = kc / BAND * BAND;
        }
        for (; p0 < kc; p0 += BAND) {
            int p1 = Math.min(kc, p0 + BAND);
            for (int s = 0; s < cols; s += NR) {
                for (int p = p0, q = sOff + p0 * ld + s, d = dOff + s * kc + p0 * NR; p < p1; p++, q += ld, d += NR) {
                    System.arraycopy(src, q, dst, d, NR);
                }
            }
        }
    }

    /**
     * A strip of an untransposed A without the register transposes ({@code MR} of 5): the
     * {@code MR} rows at {@code src} ({@code ld} apart) to {@code dst[dOff + p*MR + i]}, a column at
     * a time, so the strip is written once from start to end. Zen 1, 1 thread, the A blocks of
     * {@code sgemm} 1024^3: 1.15-1.30 ms a row at a time (five passes over the strip), 0.72-0.95.
     */
    private static void columnsOfRows(float[] dst, int dOff, float[] src, int sOff, int ld, int kc) {
        for (int p = 0, d = dOff; p < kc; p++, d += MR) {
            for (int i = 0, q = sOff + p; i < MR; i++, q += ld) {
                dst[d + i] = src[q];
            }
        }
    }

    /** {@code kc} rows of {@code MR} floats, {@code ld} apart from {@code src}, to {@code dst[dOff + p*MR + i]}. */
    private static void copyRowsMR(float[] dst, int dOff, float[] src, int sOff, int ld, int kc) {
        for (int p = 0, q = sOff, d = dOff; p < kc; p++, q += ld, d += MR) {
            for (int i = 0; i < MR; i++) {
                dst[d + i] = src[q + i];
            }
        }
    }

    /**
     * Transposes the first rows of {@code [rows, kc]} at {@code src} (leading dim {@code ld}), in
     * groups of 8, into {@code dst[dOff + p*dStride + r]}. Where {@link TransposeJit} suits the
     * strides, the {@code 16 x 16} blocks go through its generated transpose (B packed for
     * {@code sgemm} 64 x 300 x 784 with B transposed: 6-14% faster), or on AVX2 machines the
     * {@code 8 x 8} blocks through its 8 x 8 code (Zen 1, a transposed B packed: 1.02 -> 0.22 ns per
     * float at 256 x 256, 1.04 -> 0.29 at 784 x 784, 1.09 -> 0.54 at 1024 x 1024); the rest, columns up to a
     * multiple of 8 through register transposes of the Vector API, the rest element by element.
     * (The 8-row strips of A stay on the Vector API: through {@link TransposeJit#interleave8}
     * {@code sgemm} 2048^3 ran 2-4% slower.) Returns how many rows it did (a multiple of 8; 0
     * without 256-bit vectors).
     *
     * <p>The 8 x 8 code's blocks go along the rows where the source rows lie a multiple of 256
     * floats (1 KB) apart and the destination's do not, else down the columns. Down the columns,
     * the 8 lines a block reads then fall in one or a few L1 sets, as do those of the blocks
     * below it, and their second halves are gone when the next column block wants them. Zen 3,
     * min of 5 x 200 calls, down the columns / along the rows: a Linear layer's x 64 x 1024 into
     * the sparse kernel's 64-lane panel 51 / 11.4 us (rows 4096 floats apart 53 / 12.5, 1536 24 /
     * 9.9, 1280 14.2 / 10.4, 768 9.0 / 6.6, 512 8.5 / 4.3; but 1040 apart 7.8 / 9.9 and 784 5.0 /
     * 6.7); an image of 64 channels at 32 x 32 to channels-last, a row at a time (Winograd's
     * input) 50.5 / 16.5 us, 128 channels 104 / 36, at 16 x 16 3.7 / 3.0. Two column blocks or
     * 16 x 16 tiles of four blocks per step down the columns read each line whole but measured
     * 29-31 us on the 64 x 1024 pack. Where the destination rows lie a multiple of 1 KB apart,
     * along the rows would leave half-written lines of them in one set instead (see
     * {@code ConvDirect.transpose}).
     */
    static int transposeRows(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rows, int kc) {
        return transposeRows(ld % 256 == 0 && dStride % 256 != 0, dst, dOff, dStride, src, sOff, ld, rows, kc);
    }

    /**
     * {@link #transposeRows(float[], int, int, float[], int, int, int, int)} with the 8 x 8 code's
     * blocks along the rows when {@code rowsOuter}: for the strips of {@link #packA} and
     * {@link #packB} (see {@link TransposeJit#transpose8(boolean, float[], int, int, float[], int, int,
     * int, int)}). Zen 1, 1 thread, class-loader A/B in one JVM: a Linear layer's forward product
     * 64 x 1024 x 1024 (B transposed: 16 rows 4 KB apart per strip) 3.44-3.46 -> 3.19-3.24 ms.
     */
    static int transposeRows(boolean rowsOuter, float[] dst, int dOff, int dStride, float[] src, int sOff, int ld,
                             int rows, int kc) {
        if (T8 == null) {
            return 0;
        }
        int done = rows & ~7;
        int jitRows = TransposeJit.leadingBlocks(rowsOuter, dst, dOff, dStride, src, sOff, ld, done, kc);
        int jitCols = kc & -Math.max(1, TransposeJit.block());
        if (jitRows > 0) {
            vectorRows(dst, dOff + jitCols * dStride, dStride, src, sOff + jitCols, ld, jitRows, kc - jitCols);
        }
        vectorRows(dst, dOff + jitRows, dStride, src, sOff + jitRows * ld, ld, done - jitRows, kc);
        return done;
    }

    /** {@link #transposeRows} for {@code rows} a multiple of 8, on the Vector API alone. */
    private static void vectorRows(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rows, int kc) {
        int done = rows;
        int kc8 = kc & ~7;
        for (int r = 0; r < done; r += 8) {
            int s0 = sOff + r * ld;
            for (int p = 0; p < kc8; p += 8) {
                int q = s0 + p;
                var v0 = FloatVector.fromArray(T8, src, q);
                var v1 = FloatVector.fromArray(T8, src, q + ld);
                var v2 = FloatVector.fromArray(T8, src, q + 2 * ld);
                var v3 = FloatVector.fromArray(T8, src, q + 3 * ld);
                var v4 = FloatVector.fromArray(T8, src, q + 4 * ld);
                var v5 = FloatVector.fromArray(T8, src, q + 5 * ld);
                var v6 = FloatVector.fromArray(T8, src, q + 6 * ld);
                var v7 = FloatVector.fromArray(T8, src, q + 7 * ld);
                var t0 = v0.rearrange(LO1, v1);
                var t1 = v0.rearrange(HI1, v1);
                var t2 = v2.rearrange(LO1, v3);
                var t3 = v2.rearrange(HI1, v3);
                var t4 = v4.rearrange(LO1, v5);
                var t5 = v4.rearrange(HI1, v5);
                var t6 = v6.rearrange(LO1, v7);
                var t7 = v6.rearrange(HI1, v7);
                var u0 = t0.rearrange(LO2, t2);
                var u1 = t0.rearrange(HI2, t2);
                var u2 = t1.rearrange(LO2, t3);
                var u3 = t1.rearrange(HI2, t3);
                var u4 = t4.rearrange(LO2, t6);
                var u5 = t4.rearrange(HI2, t6);
                var u6 = t5.rearrange(LO2, t7);
                var u7 = t5.rearrange(HI2, t7);
                int d = dOff + p * dStride + r;
                u0.rearrange(LO4, u4).intoArray(dst, d);
                u1.rearrange(LO4, u5).intoArray(dst, d + dStride);
                u2.rearrange(LO4, u6).intoArray(dst, d + 2 * dStride);
                u3.rearrange(LO4, u7).intoArray(dst, d + 3 * dStride);
                u0.rearrange(HI4, u4).intoArray(dst, d + 4 * dStride);
                u1.rearrange(HI4, u5).intoArray(dst, d + 5 * dStride);
                u2.rearrange(HI4, u6).intoArray(dst, d + 6 * dStride);
                u3.rearrange(HI4, u7).intoArray(dst, d + 7 * dStride);
            }
            for (int i = 0; i < 8; i++) {
                for (int p = kc8, q = s0 + i * ld + kc8, d = dOff + kc8 * dStride + r + i; p < kc; p++, q++, d += dStride) {
                    dst[d] = src[q];
                }
            }
        }
    }
}
