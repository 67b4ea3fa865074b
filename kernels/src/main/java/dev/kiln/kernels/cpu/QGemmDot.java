package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The quantized GEMM as dot products along k: small batches (GEMV-like), the rows left after the
 * 32-row strips of {@link QGemmColumns}, and every shape on vectors narrower than 512 bits. Both
 * operands are read along k in their own layouts: A is widened once per block of rows to unsigned
 * 16-bit values, zero-padded to whole vectors; B is read as bytes, offset to unsigned and widened
 * as it is loaded.
 *
 * <p>The arithmetic is {@link QGemmKernel}'s: operands offset to unsigned, a 16-bit multiply forms
 * two products per 32-bit lane, {@code X += x}, {@code H += x >>> 16}, {@code X - 65535 H} at the
 * end, then a lane reduction per output; the offsets come back out through the row and column
 * sums of {@link QGemmColumns}. Past k, A is zero, so B may be read beyond its row (a copy serves
 * the last block when its rows end too close to the end of the array). Tiles are 4 rows x 3 columns
 * ({@link #dot4x3}; 2 x 3 with 16 vector registers, {@link #dot2x3}) and 1 x 6 for the leftover
 * rows; columns past n repeat the last one.
 *
 * <p>With {@link Simd#SCALAR} (or vectors under 256 bits) the same blocking runs plain int loops.
 */
final class QGemmDot {
    private static final boolean VECTOR = QGemmEpilogue.VECTOR;
    private static final VectorSpecies<Short> S =
            VECTOR ? VectorSpecies.of(short.class, VectorShape.forBitSize(Simd.BITS)) : null;
    private static final VectorSpecies<Byte> BH =
            VECTOR ? VectorSpecies.of(byte.class, VectorShape.forBitSize(Simd.BITS / 2)) : null;
    /** Tiles of 2 rows x 3 columns ({@link #dot2x3}) instead of 4 x 3: 16 vector registers ({@link Simd#REGISTERS}). */
    private static final boolean NARROW = VECTOR && Simd.REGISTERS < 32;
    /** Values of k per step. */
    private static final int W = VECTOR ? S.length() : 1;
    /** Columns per block: a multiple of 6, the widest tile. */
    static final int NB = 60;
    /** Rows per block. */
    static final int MB = 64;

    private QGemmDot() {
    }

    /** Validated call with {@code m, n > 0}: A rows at {@code aOff}, written to output rows {@code i0 ...}. */
    static void run(QGemmEpilogue out, int i0, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        boolean parallel = Parallel.threads() > 1 && (long) m * n * k >= Gemm.PARALLEL_MIN_WORK;
        int units = (n + NB - 1) / NB;
        Parallel.forRange(parallel ? units : 1, Gemm.grain((long) m * NB * Math.max(1, k)), (lo, hi) ->
                block(out, i0, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, lo * NB,
                        parallel ? Math.min(n, hi * NB) : n, k));
    }

    /** Output columns {@code [j0, j1)}, all rows, on the calling thread. */
    private static void block(QGemmEpilogue out, int i0, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                              byte[] b, int bOff, int ldb, int m, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kp = (Math.max(1, k) + W - 1) / W * W;
        int z = aUnsigned ? zpA : zpA + 128;
        int[] rb = buf.rowTile(MB * NB);
        int[] rowTerm = buf.rowTerm(MB);
        int[] colTerm = buf.colTerm(NB);
        for (int ib = 0; ib < m; ib += MB) {
            int rows = Math.min(MB, m - ib);
            short[] as = buf.shortA(rows * kp);
            for (int r = 0; r < rows; r++) {
                int sum = widen(as, r * kp, a, aOff + (ib + r) * lda, k, !aUnsigned);
                Arrays.fill(as, r * kp + k, (r + 1) * kp, (short) 0);
                rowTerm[r] = 128 * (z * k - sum);
            }
            for (int jb = j0; jb < j1; jb += NB) {
                int cols = Math.min(NB, j1 - jb);
                for (int c = 0; c < cols; c++) {
                    colTerm[c] = z == 0 ? 0 : z * widen(null, 0, b, bOff + (jb + c) * ldb, k, true);
                }
                int bo = bOff + jb * ldb;
                if (!VECTOR) {
                    scalar(as, kp, rows, b, bo, ldb, cols, k, rb);
                } else if (bo + (cols - 1L) * ldb + kp <= b.length) {
                    tiles(as, kp, rows, b, bo, ldb, cols, rb);
                } else {
                    tiles(as, kp, rows, copyRows(buf.scratchB(cols * kp), b, bo, ldb, cols, k, kp), 0, kp, cols, rb);
                }
                out.store(rb, NB, rows, cols, i0 + ib, jb, rowTerm, colTerm, buf);
            }
        }
    }

    /**
     * Raw unsigned sums {@code rb[r*NB + c]} of {@code rows x cols} outputs, row {@code c} of B at
     * {@code b[bo + c*ldb]} readable for {@code kp} bytes.
     */
    private static void tiles(short[] as, int kp, int rows, byte[] b, int bo, int ldb, int cols, int[] rb) {
        int last = bo + (cols - 1) * ldb;
        int r = 0;
        if (NARROW) {
            for (; r + 2 <= rows; r += 2) {
                for (int c = 0; c < cols; c += 3) {
                    int o = bo + c * ldb;
                    dot2x3(kp, as, r * kp, kp, b, o, Math.min(o + ldb, last), Math.min(o + 2 * ldb, last),
                            rb, r * NB + c, NB);
                }
            }
        }
        for (; r + 4 <= rows; r += 4) {
            for (int c = 0; c < cols; c += 3) {
                int o = bo + c * ldb;
                dot4x3(kp, as, r * kp, kp, b, o, Math.min(o + ldb, last), Math.min(o + 2 * ldb, last),
                        rb, r * NB + c, NB);
            }
        }
        for (; r < rows; r++) {
            for (int c = 0; c < cols; c += 6) {
                int o = bo + c * ldb;
                dot1x6(kp, as, r * kp, b, o, Math.min(o + ldb, last), Math.min(o + 2 * ldb, last),
                        Math.min(o + 3 * ldb, last), Math.min(o + 4 * ldb, last), Math.min(o + 5 * ldb, last),
                        rb, r * NB + c);
            }
        }
    }

    /**
     * {@code count} rows of B (k bytes each, {@code ld} apart from {@code off}) copied {@code kp}
     * apart; what follows each row does not matter, A being zero there.
     */
    private static byte[] copyRows(byte[] scratch, byte[] b, int off, int ld, int count, int k, int kp) {
        for (int c = 0; c < count; c++) {
            System.arraycopy(b, off + c * ld, scratch, c * kp, k);
        }
        return scratch;
    }

    /** Scalar tile: {@code rb[r*NB + c] = sum_p A_u[r,p] * B_u[c,p]}. */
    private static void scalar(short[] as, int kp, int rows, byte[] b, int bOff, int ldb, int cols, int k, int[] rb) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int s = 0;
                for (int p = 0, ai = r * kp, bi = bOff + c * ldb; p < k; p++) {
                    s += as[ai + p] * ((b[bi + p] ^ 0x80) & 0xff);
                }
                rb[r * NB + c] = s;
            }
        }
    }

    /**
     * Widens {@code src[sOff : sOff+k]} to unsigned 16-bit values in {@code dst} (when not null),
     * {@code flip} mapping int8 to uint8 ({@code + 128}); returns the sum of the unsigned values,
     * accumulated in 16-bit lanes for at most 128 steps before they spill into int lanes.
     */
    static int widen(short[] dst, int dOff, byte[] src, int sOff, int k, boolean flip) {
        int sum = 0;
        int p = 0;
        if (VECTOR) {
            ByteVector bias = ByteVector.broadcast(BH, flip ? (byte) 0x80 : 0);
            IntVector total = IntVector.zero(Simd.I);
            int full = k - k % W;
            while (p < full) {
                ShortVector part = ShortVector.zero(S);
                for (int end = Math.min(full, p + 128 * W); p < end; p += W) {
                    ShortVector v = (ShortVector) ByteVector.fromArray(BH, src, sOff + p)
                            .lanewise(VectorOperators.XOR, bias).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    if (dst != null) {
                        v.intoArray(dst, dOff + p);
                    }
                    part = part.add(v);
                }
                IntVector pairs = part.reinterpretAsInts();
                total = total.add(pairs.and(0xffff)).add(pairs.lanewise(VectorOperators.LSHR, 16));
            }
            sum = total.reduceLanes(VectorOperators.ADD);
        }
        for (; p < k; p++) {
            int v = flip ? (src[sOff + p] ^ 0x80) & 0xff : src[sOff + p] & 0xff;
            if (dst != null) {
                dst[dOff + p] = (short) v;
            }
            sum += v;
        }
        return sum;
    }

    /**
     * Raw sums {@code t[ti + r*ldt + c] = sum_p A_u[r,p] * B_u[c,p]} for 4 rows of A
     * ({@code as[ai + r*lda + p]}, zero past k) and the 3 rows of B at {@code b0 ..}, over {@code p < kp}.
     */
    private static void dot4x3(int kp, short[] as, int ai, int lda, byte[] b, int b0, int b1, int b2,
                               int[] t, int ti, int ldt) {
        IntVector z = IntVector.zero(Simd.I);
        IntVector x00 = z, h00 = z, x01 = z, h01 = z, x02 = z, h02 = z;
        IntVector x10 = z, h10 = z, x11 = z, h11 = z, x12 = z, h12 = z;
        IntVector x20 = z, h20 = z, x21 = z, h21 = z, x22 = z, h22 = z;
        IntVector x30 = z, h30 = z, x31 = z, h31 = z, x32 = z, h32 = z;
        for (int p = 0; p < kp; p += W) {
            ShortVector w0 = (ShortVector) ByteVector.fromArray(BH, b, b0 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromArray(BH, b, b1 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w2 = (ShortVector) ByteVector.fromArray(BH, b, b2 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector a = ShortVector.fromArray(S, as, ai + p);
            IntVector u = a.mul(w0).reinterpretAsInts();
            x00 = x00.add(u);
            h00 = h00.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x01 = x01.add(u);
            h01 = h01.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x02 = x02.add(u);
            h02 = h02.add(u.lanewise(VectorOperators.LSHR, 16));
            a = ShortVector.fromArray(S, as, ai + lda + p);
            u = a.mul(w0).reinterpretAsInts();
            x10 = x10.add(u);
            h10 = h10.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x11 = x11.add(u);
            h11 = h11.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x12 = x12.add(u);
            h12 = h12.add(u.lanewise(VectorOperators.LSHR, 16));
            a = ShortVector.fromArray(S, as, ai + 2 * lda + p);
            u = a.mul(w0).reinterpretAsInts();
            x20 = x20.add(u);
            h20 = h20.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x21 = x21.add(u);
            h21 = h21.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x22 = x22.add(u);
            h22 = h22.add(u.lanewise(VectorOperators.LSHR, 16));
            a = ShortVector.fromArray(S, as, ai + 3 * lda + p);
            u = a.mul(w0).reinterpretAsInts();
            x30 = x30.add(u);
            h30 = h30.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x31 = x31.add(u);
            h31 = h31.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x32 = x32.add(u);
            h32 = h32.add(u.lanewise(VectorOperators.LSHR, 16));
        }
        t[ti] = x00.sub(h00.lanewise(VectorOperators.LSHL, 16)).add(h00)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 1] = x01.sub(h01.lanewise(VectorOperators.LSHL, 16)).add(h01)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2] = x02.sub(h02.lanewise(VectorOperators.LSHL, 16)).add(h02)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt] = x10.sub(h10.lanewise(VectorOperators.LSHL, 16)).add(h10)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt + 1] = x11.sub(h11.lanewise(VectorOperators.LSHL, 16)).add(h11)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt + 2] = x12.sub(h12.lanewise(VectorOperators.LSHL, 16)).add(h12)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2 * ldt] = x20.sub(h20.lanewise(VectorOperators.LSHL, 16)).add(h20)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2 * ldt + 1] = x21.sub(h21.lanewise(VectorOperators.LSHL, 16)).add(h21)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2 * ldt + 2] = x22.sub(h22.lanewise(VectorOperators.LSHL, 16)).add(h22)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 3 * ldt] = x30.sub(h30.lanewise(VectorOperators.LSHL, 16)).add(h30)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 3 * ldt + 1] = x31.sub(h31.lanewise(VectorOperators.LSHL, 16)).add(h31)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 3 * ldt + 2] = x32.sub(h32.lanewise(VectorOperators.LSHL, 16)).add(h32)
                .reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dot4x3} for 2 rows of A: 12 accumulators where there are 16 vector registers (the 24
     * of {@code dot4x3} spilled on AVX2). Zen 1, 1 thread, {@code gemmDequant} 64 x 1024 x 1024,
     * min of 50 calls: 8.0 ms (16.8 GOP/s) with 4 x 3 tiles, 5.67 ms (23.7 GOP/s) with these; 3 x 2
     * tiles 5.60 ms.
     */
    private static void dot2x3(int kp, short[] as, int ai, int lda, byte[] b, int b0, int b1, int b2,
                               int[] t, int ti, int ldt) {
        IntVector z = IntVector.zero(Simd.I);
        IntVector x00 = z, h00 = z, x01 = z, h01 = z, x02 = z, h02 = z;
        IntVector x10 = z, h10 = z, x11 = z, h11 = z, x12 = z, h12 = z;
        for (int p = 0; p < kp; p += W) {
            ShortVector w0 = (ShortVector) ByteVector.fromArray(BH, b, b0 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromArray(BH, b, b1 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w2 = (ShortVector) ByteVector.fromArray(BH, b, b2 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector a = ShortVector.fromArray(S, as, ai + p);
            IntVector u = a.mul(w0).reinterpretAsInts();
            x00 = x00.add(u);
            h00 = h00.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x01 = x01.add(u);
            h01 = h01.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x02 = x02.add(u);
            h02 = h02.add(u.lanewise(VectorOperators.LSHR, 16));
            a = ShortVector.fromArray(S, as, ai + lda + p);
            u = a.mul(w0).reinterpretAsInts();
            x10 = x10.add(u);
            h10 = h10.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x11 = x11.add(u);
            h11 = h11.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x12 = x12.add(u);
            h12 = h12.add(u.lanewise(VectorOperators.LSHR, 16));
        }
        t[ti] = x00.sub(h00.lanewise(VectorOperators.LSHL, 16)).add(h00)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 1] = x01.sub(h01.lanewise(VectorOperators.LSHL, 16)).add(h01)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2] = x02.sub(h02.lanewise(VectorOperators.LSHL, 16)).add(h02)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt] = x10.sub(h10.lanewise(VectorOperators.LSHL, 16)).add(h10)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt + 1] = x11.sub(h11.lanewise(VectorOperators.LSHL, 16)).add(h11)
                .reduceLanes(VectorOperators.ADD);
        t[ti + ldt + 2] = x12.sub(h12.lanewise(VectorOperators.LSHL, 16)).add(h12)
                .reduceLanes(VectorOperators.ADD);
    }

    /**
     * Raw sums {@code t[ti + c] = sum_p A_u[r,p] * B_u[c,p]} for 1 row of A
     * ({@code as[ai + p]}, zero past k) and the 6 rows of B at {@code b0 ..}, over {@code p < kp}.
     */
    private static void dot1x6(int kp, short[] as, int ai, byte[] b, int b0, int b1, int b2, int b3, int b4, int b5,
                               int[] t, int ti) {
        IntVector z = IntVector.zero(Simd.I);
        IntVector x00 = z, h00 = z, x01 = z, h01 = z, x02 = z, h02 = z;
        IntVector x03 = z, h03 = z, x04 = z, h04 = z, x05 = z, h05 = z;
        for (int p = 0; p < kp; p += W) {
            ShortVector w0 = (ShortVector) ByteVector.fromArray(BH, b, b0 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromArray(BH, b, b1 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w2 = (ShortVector) ByteVector.fromArray(BH, b, b2 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w3 = (ShortVector) ByteVector.fromArray(BH, b, b3 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w4 = (ShortVector) ByteVector.fromArray(BH, b, b4 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w5 = (ShortVector) ByteVector.fromArray(BH, b, b5 + p)
                    .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector a = ShortVector.fromArray(S, as, ai + p);
            IntVector u = a.mul(w0).reinterpretAsInts();
            x00 = x00.add(u);
            h00 = h00.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w1).reinterpretAsInts();
            x01 = x01.add(u);
            h01 = h01.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w2).reinterpretAsInts();
            x02 = x02.add(u);
            h02 = h02.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w3).reinterpretAsInts();
            x03 = x03.add(u);
            h03 = h03.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w4).reinterpretAsInts();
            x04 = x04.add(u);
            h04 = h04.add(u.lanewise(VectorOperators.LSHR, 16));
            u = a.mul(w5).reinterpretAsInts();
            x05 = x05.add(u);
            h05 = h05.add(u.lanewise(VectorOperators.LSHR, 16));
        }
        t[ti] = x00.sub(h00.lanewise(VectorOperators.LSHL, 16)).add(h00)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 1] = x01.sub(h01.lanewise(VectorOperators.LSHL, 16)).add(h01)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 2] = x02.sub(h02.lanewise(VectorOperators.LSHL, 16)).add(h02)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 3] = x03.sub(h03.lanewise(VectorOperators.LSHL, 16)).add(h03)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 4] = x04.sub(h04.lanewise(VectorOperators.LSHL, 16)).add(h04)
                .reduceLanes(VectorOperators.ADD);
        t[ti + 5] = x05.sub(h05.lanewise(VectorOperators.LSHL, 16)).add(h05)
                .reduceLanes(VectorOperators.ADD);
    }
}
