package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of the fp32 GEMM micro-kernel for AVX2 + FMA machines (16 ymm registers): a run of
 * {@code rows x 16} tiles of C, each {@code sum_p A[p] * B[p]} over {@code steps} steps of a packed
 * A strip ({@code rows} floats a step, {@code aStride} bytes apart: {@code 4*rows} packed, or rows of a
 * k-major A read in place) and a B strip (16 floats a step, {@code bStride} bytes apart:
 * packed, or rows of an untransposed B read in place), then the GEMM's epilogue: plus the old C,
 * plus a bias per column, ReLU, each when asked, in that order.
 *
 * <p>The function is {@code void f(a, b, c, bias, args)} (System V, five addresses), {@code args}
 * eight-byte values at the indices named below: offsets, strides and steps in bytes, {@link #STEPS}
 * and {@link #TILES} counts, the three flags 0 or 1. With {@code A = a + aOff}, {@code B = b + bOff},
 * {@code C = c + cOff}, {@code Z = bias + biasOff} and each advanced by its step per tile
 * ({@code aStep, bStep, cStep, biasStep}), tile {@code t}, row {@code r < rows}, column {@code j < 16}
 * (indices in floats, strides in bytes):
 * <pre>
 * acc = fma(A[(steps-1)*aStride/4 + r], B[(steps-1)*bStride/4 + j], ... fma(A[r], B[j], 0))
 * C[r*ldc/4 + j] = relu(acc + C[r*ldc/4 + j] (load) + Z[j] (bias))
 * </pre>
 * one FMA per step in the order of {@code p}, then one rounding per add: the same float operations
 * as {@code GemmMicro}'s Vector API kernel, so the same bits. ReLU is {@code vmaxps zero, v}: zero
 * for {@code v < 0}, else {@code v}, NaN and {@code -0} kept, as {@code v < 0 ? 0 : v}. Exactly these
 * bytes are read and written: per tile {@code 4*rows} bytes of A per step, 64 bytes of B per step, and
 * 64 bytes of C per row (of Z when {@code bias}); {@code steps, tiles >= 1}. The caller checks all
 * of it before the call.
 *
 * <p>Registers: the accumulators in {@code ymm0 .. ymm(2*rows-1)} (row {@code r}: {@code 2r, 2r+1}),
 * B's step in {@code ymm12-13}, A's broadcasts alternating in {@code ymm14-15}; {@code rax} walks A,
 * {@code r10} B, {@code r12} (saved) counts steps, {@code rbx} (saved) tiles, {@code r9} holds ldc,
 * {@code r11} bStride, {@code r14} (saved, when strided) aStride, {@code r13} (saved) the third row of C.
 */
public final class FmaGemmCode {
    /**
     * Most rows of a tile: {@code 2*rows} accumulators, two B vectors and two broadcasts fit 16
     * registers up to 6 rows; 5 are what {@code GemmMicro} packs A for on such machines (see its
     * {@code MR}), and the rows of C up to 5 are all addressed from two bases.
     */
    public static final int MAX_ROWS = 5;
    /** Indices of {@code args}. */
    public static final int A_OFF = 0, B_OFF = 1, C_OFF = 2, BIAS_OFF = 3, LDC = 4, B_STRIDE = 5, STEPS = 6,
            TILES = 7, A_STEP = 8, B_STEP = 9, C_STEP = 10, BIAS_STEP = 11, LOAD = 12, BIAS = 13, RELU = 14,
            A_STRIDE = 15;
    /** Length of {@code args}. */
    public static final int ARGS = 16;

    private FmaGemmCode() {
    }

    /** The kernel for tiles of {@code rows} rows over packed A strips ({@link #A_STRIDE} not read). */
    public static byte[] gemm(int rows) {
        return gemm(rows, false);
    }

    /**
     * The kernel for tiles of {@code rows} rows; with {@code strided}, A's steps are {@link #A_STRIDE}
     * bytes apart (a k-major A read in place), else {@code 4*rows} (packed strips: the code as it was
     * before the stride, byte for byte, since the packed GEMM's rate on this CPU moves with the
     * loop's placement).
     */
    public static byte[] gemm(int rows, boolean strided) {
        if (rows < 1 || rows > MAX_ROWS) {
            throw new IllegalArgumentException("FmaGemmCode: expected rows in [1, " + MAX_ROWS + "], got " + rows);
        }
        final int a = RDI, b = RSI, c = RDX, bias = RCX, args = R8, ldc = R9, ap = RAX, bp = R10, bs = R11;
        final int tiles = RBX, count = R12, row2 = R13, as = R14;
        X86Asm x = new X86Asm();
        int[] saved = strided ? new int[] {RBX, R12, R13, R14} : new int[] {RBX, R12, R13};
        x.save(saved);
        x.addLoad(a, mem(args, 8 * A_OFF));
        x.addLoad(b, mem(args, 8 * B_OFF));
        x.addLoad(c, mem(args, 8 * C_OFF));
        x.addLoad(bias, mem(args, 8 * BIAS_OFF));
        x.movLoad(ldc, mem(args, 8 * LDC));
        x.movLoad(bs, mem(args, 8 * B_STRIDE));
        x.movLoad(tiles, mem(args, 8 * TILES));
        if (strided) {
            x.movLoad(as, mem(args, 8 * A_STRIDE));
        }
        Label tile = new Label();
        x.bind(tile);
        for (int i = 0; i < 2 * rows; i++) {
            x.vxorpsY(i, i, i);
        }
        x.mov(ap, a);
        x.mov(bp, b);
        x.movLoad(count, mem(args, 8 * STEPS));
        Label step = new Label();
        x.bind(step);
        x.vmovupsLoadY(12, mem(bp, 0));
        x.vmovupsLoadY(13, mem(bp, 32));
        for (int r = 0; r < rows; r++) {
            int bc = 14 + (r & 1);
            x.vbroadcastssY(bc, mem(ap, 4 * r));
            x.vfmadd231psYY(2 * r, 12, bc);
            x.vfmadd231psYY(2 * r + 1, 13, bc);
        }
        if (strided) {
            x.add(ap, as);
        } else {
            x.addImm(ap, 4 * rows);
        }
        x.add(bp, bs);
        x.dec(count);
        x.jnz(step);
        // the epilogue; row r of C at c + r*ldc (rows 2 and 3 from row2 = c + 2*ldc)
        x.lea(row2, mem(c, ldc, 2, 0));
        when(x, count, mem(args, 8 * LOAD), () -> {
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < 2; h++) {
                    x.vaddpsY(2 * r + h, 2 * r + h, rowOf(r, c, row2, ldc, 32 * h));
                }
            }
        });
        when(x, count, mem(args, 8 * BIAS), () -> {
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < 2; h++) {
                    x.vaddpsY(2 * r + h, 2 * r + h, mem(bias, 32 * h));
                }
            }
        });
        when(x, count, mem(args, 8 * RELU), () -> {
            x.vxorpsY(15, 15, 15);
            for (int i = 0; i < 2 * rows; i++) {
                x.vmaxpsY(i, 15, i);
            }
        });
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < 2; h++) {
                x.vmovupsStoreY(rowOf(r, c, row2, ldc, 32 * h), 2 * r + h);
            }
        }
        x.addLoad(a, mem(args, 8 * A_STEP));
        x.addLoad(b, mem(args, 8 * B_STEP));
        x.addLoad(c, mem(args, 8 * C_STEP));
        x.addLoad(bias, mem(args, 8 * BIAS_STEP));
        x.dec(tiles);
        x.jnz(tile);
        x.restoreAndReturn(saved);
        return x.bytes();
    }

    /** Emits {@code body} to run only when the flag at {@code flag} is not 0 (read through the scratch register {@code tmp}). */
    private static void when(X86Asm x, int tmp, Mem flag, Runnable body) {
        Label skip = new Label();
        x.movLoad(tmp, flag);
        x.cmpImm(tmp, 0);
        x.jz(skip);
        body.run();
        x.bind(skip);
    }

    /**
     * Row {@code r < 5} of C, {@code disp} bytes in: {@code c}, {@code c + ldc}, {@code row2 = c + 2 ldc}, ...
     * (also the rows of {@link FmaConvCode}'s tiles).
     */
    static Mem rowOf(int r, int c, int row2, int ldc, int disp) {
        return switch (r) {
            case 0 -> mem(c, disp);
            case 1 -> mem(c, ldc, 1, disp);
            case 2 -> mem(row2, disp);
            case 3 -> mem(row2, ldc, 1, disp);
            default -> mem(c, ldc, 4, disp);
        };
    }
}
