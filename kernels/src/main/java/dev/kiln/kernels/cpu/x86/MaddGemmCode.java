package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of the int8 GEMM micro-kernel for AVX2 machines without VNNI, on {@code vpmaddwd}:
 * per 32-bit lane, two signed 16-bit products added into one int32 (exact for the operands it is
 * given: activations minus their zero point in {@code [-255, 255]}, weights in {@code [-128, 127]}),
 * then {@code vpaddd} into the accumulator. Lanes run along the output columns, so the accumulators
 * are rows of the output tile, stored row-major as the epilogue reads them.
 *
 * <p>The function is {@code void f(a, b, c, aOff, bOff, cOff, lda, ldc, steps, tiles)} (System V:
 * three addresses, seven longs, the last four on the stack; offsets and leading dimensions in
 * bytes, so that the callers can pass whole Java arrays without slicing). With
 * {@code A = a + aOff} (int16), {@code B = b + bOff} (int16), {@code C = c + cOff} (int32),
 * {@code R = rows}, {@code W = 8*nv} columns, for {@code t < tiles}, {@code r < R}, {@code j < W}
 * (indices in elements, leading dimensions in bytes):
 * <pre>
 * C[((t*R + r)*ldc)/4 + j] = sum_{q < steps, e < 2}  A[((t*R + r)*lda)/2 + 2*q + e] * B[(q*W + j)*2 + e]
 * </pre>
 * A holds rows of 16-bit k-pairs (the caller subtracts the zero point when it widens them), B one
 * panel of {@code W} columns packed k-pair by k-pair ({@code [q][j][e]}), read again for every tile
 * of rows, C is written. Exactly these bytes are read and written: for each row, {@code 4*steps}
 * bytes of A at its offset; {@code B[0 : 4*W*steps]}; for each row, {@code 4*W} bytes of C at its
 * offset; {@code steps, tiles >= 1}. The caller checks all of it before the call.
 *
 * <p>Why this shape: each k-pair step loads the tile's {@code nv} vectors of B once into
 * registers ({@code ymm12-13}) and, per row, broadcasts the row's pair ({@code ymm14}) and
 * multiplies it with them into a product register ({@code ymm15}) that {@code vpaddd} adds into
 * the row's accumulators ({@code ymm0 ..}, {@code rows * nv <= 12}): 6 rows x 2 vectors, 12
 * multiplies per 2 + 6 loads. Zen 3 has two pipes that take {@code vpmaddwd}; with B a memory
 * operand of every multiply (the earlier shape, 4 rows x 3 vectors, written for Zen 1's single
 * 128-bit multiplier pipe) the loads competed with them: 64 x 1024 x 1024 over packed panels, one
 * Zen 3 core, 99-101 GOP/s against 155-158 with B in registers (6 x 2 and 5 x 2 tiles alike; 4 x 2
 * 144-154, 3 x 3 127-136, 2 x 4 124-127), the bare {@code vpmaddwd + vpaddd} loop 163 GOP/s.
 * {@code rax} walks A, {@code r13} (saved) A's fourth row, {@code rbx} (saved) B, {@code r12}
 * (saved) counts steps, {@code r9} tiles.
 */
public final class MaddGemmCode {
    /** Most rows per tile of {@link #gemm}. */
    public static final int MAX_ROWS = 6;
    /** Most vectors of 8 columns per tile of {@link #gemm}. */
    public static final int MAX_NV = 2;
    /** Most rows of {@link #dot}. */
    public static final int MAX_DOT_ROWS = 4;

    private MaddGemmCode() {
    }

    /** Most columns of {@link #dot}. */
    public static final int MAX_DOT_NR = 3;

    /**
     * The lanes-along-k kernel, for batches too small to pay for widening B into panels:
     * {@code void f(a, b, c, aOff, bOff, cOff, lda, ldb, steps, tiles)} as {@link #gemm}, with
     * {@code R = rows} rows of A (16-bit, zero point subtracted, zero past k up to whole steps of 16)
     * and B read in place as int8 columns ({@code ldb} bytes apart, 16 bytes a step widened by
     * {@code vpmovsxbw}), {@code nr} columns a tile:
     * <pre>
     * C[((t*nr + j)*R + r)*8 + l] = sum_{q < steps, e < 2}  A[((r*lda)/2) + 16*q + 2*l + e]
     *                                                        * B[(t*nr + j)*ldb + 16*q + 2*l + e]
     * </pre>
     * (8 partial sums per output, which the caller adds up). Reads for each row {@code 32*steps}
     * bytes of A at its offset, for each column {@code 16*steps} bytes of B at its offset; writes
     * {@code C[0 : tiles*nr*R*8]} ints.
     */
    public static byte[] dot(int rows, int nr) {
        if (rows < 1 || rows > MAX_DOT_ROWS || nr < 1 || nr > MAX_DOT_NR) {
            throw new IllegalArgumentException("MaddGemmCode: expected rows in [1, " + MAX_DOT_ROWS + "] and nr in [1, "
                    + MAX_DOT_NR + "], got " + rows + " and " + nr);
        }
        final int a = RDI, b = RSI, c = RDX, lda = R10, lda3 = RBX, ldb = RCX, steps = R8, tiles = R9;
        final int ap = RAX, col = R11, count = R12;
        X86Asm x = enter(lda3);
        Label tile = new Label();
        x.bind(tile);
        for (int i = 0; i < rows * nr; i++) {
            x.vpxorY(i, i, i);
        }
        x.mov(ap, a);
        x.mov(col, b);
        x.mov(count, steps);
        Label k = new Label();
        x.bind(k);
        int product = 0;
        for (int j = 0; j < nr; j++) {
            int bv = 12 + (j & 1);
            x.vpmovsxbwY(bv, j == 0 ? mem(col, 0) : mem(col, ldb, j, 0));
            for (int r = 0; r < rows; r++) {
                Mem row = r == 0 ? mem(ap, 0) : r == 3 ? mem(ap, lda3, 1, 0) : mem(ap, lda, r, 0);
                int t = 14 + (product++ & 1);
                x.vpmaddwdY(t, bv, row);
                x.vpadddY(j * rows + r, j * rows + r, t);
            }
        }
        x.addImm(ap, 32);
        x.addImm(col, 16);
        x.dec(count);
        x.jnz(k);
        for (int i = 0; i < rows * nr; i++) {
            x.vmovdquStoreY(mem(c, 32 * i), i);
        }
        x.addImm(c, 32 * rows * nr);
        for (int j = 0; j < nr; j++) {
            x.add(b, ldb);
        }
        x.dec(tiles);
        x.jnz(tile);
        return leave(x);
    }

    /**
     * Both kernels' entry: rbx, r12 and r13 saved; the three addresses advanced by their offsets
     * ({@code rdi, rsi, rdx}); from the stack {@code r10} = lda, {@code rcx} = ldc or ldb,
     * {@code r8} = steps, {@code r9} = tiles; {@code lda3} = 3 * lda.
     */
    private static X86Asm enter(int lda3) {
        X86Asm x = new X86Asm();
        x.save(RBX, R12, R13);
        // arguments: rdi a, rsi b, rdx c, rcx aOff, r8 bOff, r9 cOff; [rsp+32] lda, [rsp+40] ldc (ldb),
        // [rsp+48] steps, [rsp+56] tiles (three pushes and the return address above them)
        x.add(RDI, RCX);
        x.add(RSI, R8);
        x.add(RDX, R9);
        x.movLoad(R10, mem(RSP, 32));
        x.movLoad(RCX, mem(RSP, 40));
        x.movLoad(R8, mem(RSP, 48));
        x.movLoad(R9, mem(RSP, 56));
        x.lea(lda3, mem(R10, R10, 2, 0));
        return x;
    }

    /** Both kernels' exit: r13, r12 and rbx restored, {@code vzeroupper}, {@code ret}; the code. */
    private static byte[] leave(X86Asm x) {
        x.restoreAndReturn(RBX, R12, R13);
        return x.bytes();
    }

    /** The kernel for {@code rows} rows and {@code nv} vectors of 8 columns. */
    public static byte[] gemm(int rows, int nv) {
        if (rows < 1 || rows > MAX_ROWS || nv < 1 || nv > MAX_NV) {
            throw new IllegalArgumentException("MaddGemmCode: expected rows in [1, " + MAX_ROWS + "] and nv in [1, "
                    + MAX_NV + "], got " + rows + " and " + nv);
        }
        return tiles(rows, nv, false);
    }

    /** Most rows per tile of {@link #gemmBytes}. */
    public static final int MAX_BYTE_ROWS = 4;

    /**
     * The kernel on bytes for A values of at most 127: as {@link #gemm}, but A holds rows of
     * unsigned bytes in k-quads and B one panel of {@code W} columns of signed bytes packed
     * k-quad by k-quad ({@code [q][j][e]}, {@code e < 4}), so that per 32-bit lane
     * <pre>
     * C[((t*R + r)*ldc)/4 + j] = sum_{q < steps, e < 4}  A[(t*R + r)*lda + 4*q + e] * B[(q*W + j)*4 + e]
     * </pre>
     * ({@code lda} in bytes: for each row {@code 4*steps} bytes of A are read). {@code vpmaddubsw}
     * multiplies the unsigned bytes of the broadcast quad by B's signed bytes and adds pairs into
     * 16-bit lanes with saturation, which never happens when A's bytes are at most 127 ({@code
     * 2 * 127 * 128 = 32512}; the caller guarantees it); {@code vpmaddwd} by ones adds the pairs
     * into 32-bit lanes. Three instructions per 64 multiply-adds, where {@link #gemm} takes two per
     * 32: on Zen 3 the bare loops run at 196 against 164 GOP/s on one core. B's vectors in
     * {@code ymm10-11}, the broadcast quad in {@code ymm12}, the ones in {@code ymm14}, products
     * alternating between {@code ymm13} and {@code ymm15}: up to {@link #MAX_BYTE_ROWS} rows of 2
     * vectors (64 x 1024 x 1024 over packed panels, one Zen 3 core: 4 x 2 tiles 192-194 GOP/s, 5 x 2
     * 149-191, 3 x 2 182-188).
     */
    public static byte[] gemmBytes(int rows, int nv) {
        if (rows < 1 || rows > MAX_BYTE_ROWS || nv < 1 || nv > MAX_NV) {
            throw new IllegalArgumentException("MaddGemmCode: expected rows in [1, " + MAX_BYTE_ROWS + "] and nv in [1, "
                    + MAX_NV + "], got " + rows + " and " + nv);
        }
        return tiles(rows, nv, true);
    }

    /** {@link #gemm} ({@code bytes} false) or {@link #gemmBytes}: the same loops around either product. */
    private static byte[] tiles(int rows, int nv, boolean bytes) {
        final int a = RDI, b = RSI, c = RDX, lda = R10, lda3 = R11, ldc = RCX, steps = R8, tiles = R9;
        final int ap = RAX, ap3 = R13, bp = RBX, count = R12;
        final int bReg = bytes ? 10 : 12, pair = bytes ? 12 : 14, ones = 14;
        X86Asm x = enter(lda3);
        if (bytes) {
            x.vpcmpeqwYY(ones, ones, ones);
            x.vpsrlwY(ones, ones, 15);
        }
        Label tile = new Label();
        x.bind(tile);
        for (int i = 0; i < rows * nv; i++) {
            x.vpxorY(i, i, i);
        }
        x.mov(ap, a);
        x.lea(ap3, mem(a, lda3, 1, 0));
        x.mov(bp, b);
        x.mov(count, steps);
        Label k = new Label();
        x.bind(k);
        for (int v = 0; v < nv; v++) {
            x.vmovdquLoadY(bReg + v, mem(bp, 32 * v));
        }
        int n = 0;
        for (int r = 0; r < rows; r++) {
            Mem row = r < 3 ? (r == 0 ? mem(ap, 0) : mem(ap, lda, r, 0)) : r == 3 ? mem(ap3, 0) : mem(ap3, lda, r - 3, 0);
            x.vpbroadcastdY(pair, row);
            for (int v = 0; v < nv; v++) {
                int product = bytes ? (n++ & 1) == 0 ? 13 : 15 : 15;
                if (bytes) {
                    x.vpmaddubswYY(product, pair, bReg + v);
                    x.vpmaddwdYY(product, product, ones);
                } else {
                    x.vpmaddwdYY(product, pair, bReg + v);
                }
                x.vpadddY(r * nv + v, r * nv + v, product);
            }
        }
        x.addImm(ap, 4);
        x.addImm(ap3, 4);
        x.addImm(bp, 32 * nv);
        x.dec(count);
        x.jnz(k);
        x.mov(ap, c);
        for (int r = 0; r < rows; r++) {
            for (int v = 0; v < nv; v++) {
                x.vmovdquStoreY(mem(ap, 32 * v), r * nv + v);
            }
            x.add(ap, ldc);
        }
        for (int r = 0; r < rows; r++) {
            x.add(a, lda);
        }
        x.mov(c, ap);
        x.dec(tiles);
        x.jnz(tile);
        return leave(x);
    }
}
