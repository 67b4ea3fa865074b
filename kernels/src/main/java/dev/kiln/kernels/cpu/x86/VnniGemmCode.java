package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of the int8 GEMM micro-kernel on {@code vpdpbusd} (AVX512_VNNI): a tile of
 * {@code 16*mv} rows (lanes, {@code mv <= 4} zmm registers) by {@code nr <= 6} columns, 4 k-steps
 * per instruction, {@code mv * nr} int32 accumulators held in registers over all of k.
 *
 * <p>The function, {@code void f(a, b, c, aOff, bOff, cOff, ldb, kq, tiles)} (System V: three
 * addresses, six longs, the last three on the stack; offsets in bytes, so that the callers can
 * pass whole Java arrays without slicing), computes {@code tiles} tiles side by side, for
 * {@code t < tiles}, {@code col < nr}, {@code r < 16*mv}, with {@code A = a + aOff} etc.:
 * <pre>
 * C[(t*nr + col)*16*mv + r] = sum_{q < kq, e < 4} A[(q*16*mv + r)*4 + e] (uint8)
 *                                               * B[(t*nr + col)*ldb + 4*q + e] (int8)
 * </pre>
 * in wrapping int32 ({@code vpdpbusd} sums 4 exact products into each lane without saturation).
 * {@code A} is packed: per k-quad {@code q}, the quads of the {@code 16*mv} rows; {@code B} is read
 * in place, row {@code col} of a tile at {@code ldb} bytes from the previous one, one broadcast
 * 32-bit quad per column and k-quad. {@code C} is written column-major (ints). Exactly these bytes
 * are read and written: {@code A[0 : kq*64*mv]}, {@code B} at the column offsets above for
 * {@code 4*kq} bytes each, {@code C[0 : tiles*nr*16*mv]} (ints); {@code kq, tiles >= 1}. The caller
 * checks all of it before the call.
 *
 * <p>Registers: accumulators {@code zmm0 ..}, A in {@code zmm24 ..}, broadcast B in
 * {@code zmm28-31} (rotating); {@code rax} and {@code r10} walk columns 0-2 and 3-5 of B,
 * {@code r11} walks A, {@code rbx} (saved) counts k-quads, {@code r9} tiles.
 */
public final class VnniGemmCode {
    /** Most vectors of rows. */
    public static final int MAX_MV = 4;
    /** Most columns. */
    public static final int MAX_NR = 6;

    private VnniGemmCode() {
    }

    /** The kernel for {@code mv} vectors of rows and {@code nr} columns. */
    public static byte[] code(int mv, int nr) {
        if (mv < 1 || mv > MAX_MV || nr < 1 || nr > MAX_NR) {
            throw new IllegalArgumentException("VnniGemmCode: expected mv in [1, " + MAX_MV + "] and nr in [1, "
                    + MAX_NR + "], got mv=" + mv + ", nr=" + nr);
        }
        final int a = RDI, b = RSI, ldb = RDX, c = RCX, kq = R8, tiles = R9;
        final int col0 = RAX, col3 = R10, ap = R11, count = RBX;
        X86Asm x = new X86Asm();
        x.push(RBX);
        // arguments: rdi a, rsi b, rdx c, rcx aOff, r8 bOff, r9 cOff; [rsp+16] ldb, [rsp+24] kq, [rsp+32] tiles
        x.add(a, RCX);
        x.add(b, R8);
        x.lea(c, mem(RDX, R9, 1, 0));
        x.movLoad(ldb, mem(RSP, 16));
        x.movLoad(kq, mem(RSP, 24));
        x.movLoad(tiles, mem(RSP, 32));
        Label tile = new Label();
        x.bind(tile);
        for (int i = 0; i < mv * nr; i++) {
            x.vpxord(i, i, i);
        }
        x.mov(col0, b);
        if (nr > 3) {
            x.lea(col3, mem(b, ldb, 2, 0));
            x.add(col3, ldb);
        }
        x.mov(ap, a);
        x.mov(count, kq);
        Label k = new Label();
        x.bind(k);
        for (int v = 0; v < mv; v++) {
            x.vmovdqu32Load(24 + v, mem(ap, 64 * v));
        }
        for (int j = 0; j < nr; j++) {
            int bz = 28 + j % 4;
            x.vpbroadcastd(bz, j == 0 ? mem(col0, 0) : j < 3 ? mem(col0, ldb, j, 0)
                    : j == 3 ? mem(col3, 0) : mem(col3, ldb, j - 3, 0));
            for (int v = 0; v < mv; v++) {
                x.vpdpbusd(j * mv + v, 24 + v, bz);
            }
        }
        x.addImm(col0, 4);
        if (nr > 3) {
            x.addImm(col3, 4);
        }
        x.addImm(ap, 64 * mv);
        x.dec(count);
        x.jnz(k);
        for (int i = 0; i < mv * nr; i++) {
            x.vmovdqu32Store(mem(c, 64 * i), i);
        }
        x.addImm(c, 64 * mv * nr);
        for (int j = 0; j < nr; j++) {
            x.add(b, ldb);
        }
        x.dec(tiles);
        x.jnz(tile);
        x.pop(RBX);
        x.vzeroupper();
        x.ret();
        return x.bytes();
    }
}
