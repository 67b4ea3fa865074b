package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of a direct stride-1 convolution's tiles for AVX2 + FMA machines (16 ymm
 * registers): a run of tiles of {@code rows} output channels by {@link #vectors vectors(rows)} x 8
 * consecutive positions of a flattened, padded image, each value one FMA chain over the taps in
 * order: {@code acc = fma(x[tap[t] + q + j], w[t*rows + r], acc)} for {@code t = 0 .. steps-1},
 * starting from +0. Where a tap lies in the image is a table of offsets, so one code serves any
 * kernel size, dilation and number of input channels.
 *
 * <p>The function is {@code void f(w, x, out, tap, args)} (System V, five addresses): {@code w}
 * the weights, from {@code W_OFF} bytes in {@code steps} groups of {@code rows} floats; {@code x} the padded input; {@code out}
 * the result; {@code tap} {@code steps} 32-bit offsets in floats (non-negative); {@code args}
 * eight-byte values at the indices named below (offsets and steps in bytes). Tile {@code i} reads
 * its positions from {@code x + X_OFF + i*X_STEP} and writes row {@code r}'s vectors to
 * {@code out + OUT_OFF + i*OUT_STEP + r*LD}. Exactly these bytes are read and written: per tile
 * {@code 4*rows*steps} bytes of {@code w}, {@code 32*vectors} bytes at each tap, {@code 32*vectors}
 * bytes per row of {@code out}; {@code steps, tiles >= 1}. The caller checks all of it before the
 * call.
 *
 * <p>The same float operations, in the same order, as {@code ConvFew}'s Vector API tiles, so the
 * same bits. Registers: the accumulators in {@code ymm0 .. ymm(rows*vectors-1)} (row {@code r},
 * vector {@code v}: {@code r*vectors + v}); with more than one row the step's input vectors in the
 * next registers and the broadcast weights alternating in {@code ymm14-15}, each input vector then
 * used by every row; a single row takes its input straight from memory in each FMA.
 */
public final class FmaConvCode {
    /** Most rows (output channels) of a tile: 6 rows of 2 vectors, the inputs and two broadcasts fill 16 registers. */
    public static final int MAX_ROWS = 6;
    /** Indices of {@code args}. */
    public static final int W_OFF = 0, X_OFF = 1, X_STEP = 2, OUT_OFF = 3, OUT_STEP = 4, LD = 5, STEPS = 6, TILES = 7;
    /** Length of {@code args}. */
    public static final int ARGS = 8;

    private FmaConvCode() {
    }

    /**
     * Vectors of 8 positions per tile for {@code rows} rows: at least 6 accumulators (FMA latency
     * over its issue rate), inputs and broadcasts within 16 registers.
     */
    public static int vectors(int rows) {
        return switch (rows) {
            case 1 -> 6;
            case 2 -> 4;
            case 3 -> 3;
            default -> 2;
        };
    }

    /** The code for tiles of {@code rows} rows, {@code 1 <= rows <=} {@link #MAX_ROWS}. */
    public static byte[] tiles(int rows) {
        if (rows < 1 || rows > MAX_ROWS) {
            throw new IllegalArgumentException("FmaConvCode: expected rows in [1, " + MAX_ROWS + "], got " + rows);
        }
        final int w = RDI, x = RSI, out = RDX, tapBase = RCX, args = R8, ld = R9, wp = RAX, tp = R10, off = R11;
        final int tiles = RBX, count = R12, row2 = R13, row4 = R14;
        int vecs = vectors(rows);
        int in = rows * vecs;
        X86Asm a = new X86Asm();
        int[] saved = {RBX, R12, R13, R14};
        a.save(saved);
        a.addLoad(w, mem(args, 8 * W_OFF));
        a.addLoad(x, mem(args, 8 * X_OFF));
        a.addLoad(out, mem(args, 8 * OUT_OFF));
        a.movLoad(ld, mem(args, 8 * LD));
        a.movLoad(tiles, mem(args, 8 * TILES));
        Label tile = new Label();
        a.bind(tile);
        for (int i = 0; i < in; i++) {
            a.vxorpsY(i, i, i);
        }
        a.mov(wp, w);
        a.mov(tp, tapBase);
        a.movLoad(count, mem(args, 8 * STEPS));
        Label step = new Label();
        a.bind(step);
        a.movLoad32(off, mem(tp, 0));
        if (rows == 1) {
            a.vbroadcastssY(14, mem(wp, 0));
            for (int v = 0; v < vecs; v++) {
                a.vfmadd231psY(v, 14, mem(x, off, 4, 32 * v));
            }
        } else {
            for (int v = 0; v < vecs; v++) {
                a.vmovupsLoadY(in + v, mem(x, off, 4, 32 * v));
            }
            for (int r = 0; r < rows; r++) {
                int bc = 14 + (r & 1);
                a.vbroadcastssY(bc, mem(wp, 4 * r));
                for (int v = 0; v < vecs; v++) {
                    a.vfmadd231psYY(r * vecs + v, in + v, bc);
                }
            }
        }
        a.addImm(wp, 4 * rows);
        a.addImm(tp, 4);
        a.dec(count);
        a.jnz(step);
        // row r of the tile at out + r*ld: as the GEMM's rows of C, and row 5 from row4 = out + 4 ld
        a.lea(row2, mem(out, ld, 2, 0));
        a.lea(row4, mem(out, ld, 4, 0));
        for (int r = 0; r < rows; r++) {
            for (int v = 0; v < vecs; v++) {
                int disp = 32 * v;
                a.vmovupsStoreY(r < 5 ? FmaGemmCode.rowOf(r, out, row2, ld, disp) : mem(row4, ld, 1, disp), r * vecs + v);
            }
        }
        a.addLoad(x, mem(args, 8 * X_STEP));
        a.addLoad(out, mem(args, 8 * OUT_STEP));
        a.dec(tiles);
        a.jnz(tile);
        a.restoreAndReturn(saved);
        return a.bytes();
    }
}
