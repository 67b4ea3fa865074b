package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of the int8 GEMM micro-kernels on {@code vpdpbusd} (AVX512_VNNI), which multiplies
 * unsigned bytes of A by signed bytes of B and adds each group of 4 exact products into an int32
 * lane, wrapping, without saturation. Two kernels, both with {@code rows * nr <= 24} zmm
 * accumulators ({@link #maxNr}) held in registers over all of k:
 * <ul>
 *   <li>{@link #gemm}: lanes along the rows of A. A tile of {@code 16*mv} rows ({@code mv <= 4}
 *       vectors) by {@code nr <= 6} columns, 4 k-steps per instruction: per k-quad, the packed
 *       quads of the rows times one broadcast quad of B per column.</li>
 *   <li>{@link #dot}: lanes along k, for a few rows ({@code mr <= 7}): per 64-byte chunk of k, a
 *       row of A times 64 bytes of each of {@code nr <= 6} columns of B; each accumulator holds
 *       16 partial sums that the caller adds up.</li>
 * </ul>
 *
 * <p>Both functions are {@code void f(a, b, c, aOff, bOff, cOff, ldb, steps, tiles)} (System V:
 * three addresses, six longs, the last three on the stack; offsets in bytes, so that the callers
 * can pass whole Java arrays without slicing). With {@code A = a + aOff}, {@code B = b + bOff},
 * {@code C = c + cOff} (int32), {@code R = 16*mv} ({@link #gemm}) or {@code mr} ({@link #dot}),
 * for {@code t < tiles}, {@code j < nr}, {@code r < R}:
 * <pre>
 * gemm: C[(t*nr + j)*R + r]           = sum_{q < steps, e < 4}  A[(q*R + r)*4 + e] * B[(t*nr + j)*ldb + 4*q + e]
 * dot:  C[((t*nr + j)*R + r)*16 + l]  = sum_{p < steps, e < 4}  A[(p*R + r)*64 + 4*l + e]
 *                                                                * B[(t*nr + j)*ldb + 64*p + 4*l + e]   (l < 16)
 * </pre>
 * A is packed by the caller (per step, the rows one after the other), B is read in place, column
 * {@code j} of a tile {@code ldb} bytes after the previous one, C is written. Exactly these bytes
 * are read and written: {@code A[0 : steps*S*R]}, {@code B} at each column's offset for
 * {@code S*steps} bytes, {@code C[0 : tiles*nr*R*L]} ints, with {@code S = 4} and {@code L = 1}
 * (gemm) or {@code S = 64} and {@code L = 16} (dot); {@code steps, tiles >= 1}. The caller checks
 * all of it before the call.
 *
 * <p>Registers: accumulators {@code zmm0 ..} (column-major), A in {@code zmm24 ..}, B in the
 * registers above A's, rotating; {@code rax} and {@code r10} walk columns 0-2 and 3-5 of B,
 * {@code r11} walks A, {@code rbx} (saved) counts steps, {@code r9} tiles.
 */
public final class VnniGemmCode {
    /** Most vectors of rows of {@link #gemm}. */
    public static final int MAX_MV = 4;
    /** Most rows of {@link #dot} (one register is left for B). */
    public static final int MAX_DOT_ROWS = 7;
    /** Most columns. */
    public static final int MAX_NR = 6;

    /** Most columns with {@code rows} vectors (gemm) or rows (dot): at most 24 accumulators. */
    public static int maxNr(int rows) {
        return Math.min(MAX_NR, 24 / rows);
    }

    private VnniGemmCode() {
    }

    /** The lanes-along-rows kernel for {@code mv} vectors of 16 rows and {@code nr} columns. */
    public static byte[] gemm(int mv, int nr) {
        return build(mv, nr, false);
    }

    /** The lanes-along-k kernel for {@code mr} rows and {@code nr} columns. */
    public static byte[] dot(int mr, int nr) {
        return build(mr, nr, true);
    }

    private static byte[] build(int rows, int nr, boolean dot) {
        int maxRows = dot ? MAX_DOT_ROWS : MAX_MV;
        if (rows < 1 || rows > maxRows || nr < 1 || nr > maxNr(rows)) {
            throw new IllegalArgumentException("VnniGemmCode: expected rows in [1, " + maxRows + "] and nr in [1, "
                    + "min(6, 24 / rows)], got " + rows + " and " + nr);
        }
        final int a = RDI, b = RSI, ldb = RDX, c = RCX, steps = R8, tiles = R9;
        final int col0 = RAX, col3 = R10, ap = R11, count = RBX;
        final int stepB = dot ? 64 : 4;
        X86Asm x = new X86Asm();
        x.save(RBX);
        // arguments: rdi a, rsi b, rdx c, rcx aOff, r8 bOff, r9 cOff; [rsp+16] ldb, [rsp+24] steps, [rsp+32] tiles
        x.add(a, RCX);
        x.add(b, R8);
        x.lea(c, mem(RDX, R9, 1, 0));
        x.movLoad(ldb, mem(RSP, 16));
        x.movLoad(steps, mem(RSP, 24));
        x.movLoad(tiles, mem(RSP, 32));
        Label tile = new Label();
        x.bind(tile);
        for (int i = 0; i < rows * nr; i++) {
            x.vpxord(i, i, i);
        }
        x.mov(col0, b);
        if (nr > 3) {
            x.lea(col3, mem(b, ldb, 2, 0));
            x.add(col3, ldb);
        }
        x.mov(ap, a);
        x.mov(count, steps);
        Label k = new Label();
        x.bind(k);
        for (int v = 0; v < rows; v++) {
            x.vmovdqu32Load(24 + v, mem(ap, 64 * v));
        }
        for (int j = 0; j < nr; j++) {
            Mem col = j == 0 ? mem(col0, 0) : j < 3 ? mem(col0, ldb, j, 0)
                    : j == 3 ? mem(col3, 0) : mem(col3, ldb, j - 3, 0);
            if (dot && rows == 1) {
                x.vpdpbusdMem(j, 24, col);
                continue;
            }
            int bz = 24 + rows + j % (8 - rows);
            if (dot) {
                x.vmovdqu8Load(bz, col);
            } else {
                x.vpbroadcastd(bz, col);
            }
            for (int v = 0; v < rows; v++) {
                x.vpdpbusd(j * rows + v, 24 + v, bz);
            }
        }
        x.addImm(col0, stepB);
        if (nr > 3) {
            x.addImm(col3, stepB);
        }
        x.addImm(ap, 64 * rows);
        x.dec(count);
        x.jnz(k);
        for (int i = 0; i < rows * nr; i++) {
            x.vmovdqu32Store(mem(c, 64 * i), i);
        }
        x.addImm(c, 64 * rows * nr);
        for (int j = 0; j < nr; j++) {
            x.add(b, ldb);
        }
        x.dec(tiles);
        x.jnz(tile);
        x.restoreAndReturn(RBX);
        return x.bytes();
    }
}
