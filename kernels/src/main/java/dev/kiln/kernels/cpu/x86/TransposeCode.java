package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of a float matrix transpose in {@code 16 x 16} blocks, each through the 32 zmm
 * registers in four rounds of shuffles ({@code vunpcklps/vunpckhps}, {@code vunpcklpd/vunpckhpd},
 * then {@code vshuff32x4} twice: 64 shuffles, 16 loads and 16 stores per block), with what it
 * stores optionally plus a value per destination row (a bias: {@link Mode#BIAS}) or plus what the
 * destination holds ({@link Mode#ADD}). Beside it, for the packing of the GEMM and the
 * convolutions: an interleave of 8 rows ({@link #interleave8}), an AVX {@code 8 x 8} transpose in
 * either block order ({@link #transpose8}) and a copy of 16-float rows into packed strips
 * ({@link #copyStrips}).
 *
 * <p>The function is {@code void f(dst, src, bias, args)}, four addresses (System V), {@code args}
 * eight-byte values {@code dOff, dStride, sOff, ld, rowBlocks, colBlocks, biasOff}, offsets and
 * strides in bytes. With {@code D = dst + dOff}, {@code S = src + sOff}, {@code b = bias + biasOff}
 * (floats), for {@code r < 16*rowBlocks}, {@code c < 16*colBlocks}:
 * <pre>
 * D[c*dStride + r] = S[r*ld + c]           (WRITE)
 *                  = S[r*ld + c] + b[c]    (BIAS)
 *                  = D[c*dStride + r] + S[r*ld + c]   (ADD)
 * </pre>
 * (strides in floats here). Exactly those elements (and {@code b[0, 16*colBlocks)} for BIAS) are
 * read and written; {@code rowBlocks, colBlocks >= 1}. The caller checks all of it before the call.
 *
 * <p>Registers: the 16 rows in {@code zmm0-15}, the rounds alternating between {@code zmm16-31}
 * and {@code zmm0-15} (column {@code c} ends in {@code zmm c}); {@code r10}/{@code r11} walk the
 * source and destination blocks, {@code rax} their rows, {@code r12}/{@code r13} count blocks,
 * {@code r14}/{@code r15} hold 16 rows of either stride.
 */
public final class TransposeCode {
    /** What a store adds to the transposed value. */
    public enum Mode { WRITE, BIAS, ADD }

    private TransposeCode() {
    }

    /**
     * The lane tables of {@link #interleave8}, 6 x 16 ints for {@code vpermt2ps} (lane {@code i} of a
     * result takes lane {@code t & 15} of the first source, or of the second when {@code t >= 16}):
     * rows in pairs (positions 0-7, 8-15), pairs in fours (positions 4m .. 4m+3 of a pair's eight),
     * then rows 0-3 beside rows 4-7 (two positions per result).
     */
    public static int[] interleaveTable() {
        int[] t = new int[6 * 16];
        for (int m = 0; m < 8; m++) {
            t[2 * m] = m;
            t[2 * m + 1] = 16 + m;
            t[16 + 2 * m] = 8 + m;
            t[16 + 2 * m + 1] = 24 + m;
        }
        for (int m = 0; m < 4; m++) {
            for (int e = 0; e < 4; e++) {
                t[32 + 4 * m + e] = e < 2 ? 2 * m + e : 16 + 2 * m + e - 2;
                t[48 + 4 * m + e] = e < 2 ? 2 * (m + 4) + e : 16 + 2 * (m + 4) + e - 2;
            }
        }
        for (int j = 0; j < 2; j++) {
            for (int e = 0; e < 8; e++) {
                t[64 + 8 * j + e] = e < 4 ? 4 * j + e : 16 + 4 * j + e - 4;
                t[80 + 8 * j + e] = e < 4 ? 4 * (j + 2) + e : 16 + 4 * (j + 2) + e - 4;
            }
        }
        return t;
    }

    /**
     * Eight rows interleaved, {@code void f(dst, src, table, args)}, {@code table} the ints of
     * {@link #interleaveTable}, {@code args} eight-byte values {@code dOff, sOff, ld} (bytes) and
     * {@code blocks}: with {@code D = dst + dOff}, {@code S = src + sOff} (floats, {@code ld} in
     * floats here), {@code D[p*8 + k] = S[k*ld + p]} for {@code k < 8}, {@code p < 16*blocks}
     * ({@code blocks >= 1}): a position's 8 values together, as a block of 8 channels of an image is
     * laid out for the weight gradient's tiles. Per 16 positions: 8 loads, 24 {@code vpermt2ps} in
     * three rounds (tables in {@code zmm26-31}), 8 stores of two positions each.
     */
    public static byte[] interleave8() {
        final int dst = RDI, src = RSI, table = RDX, args = RCX, ld = R8, blocks = R9, row = RAX;
        X86Asm x = new X86Asm();
        x.addLoad(dst, mem(args, 0));
        x.addLoad(src, mem(args, 8));
        x.movLoad(ld, mem(args, 16));
        x.movLoad(blocks, mem(args, 24));
        for (int i = 0; i < 6; i++) {
            x.vmovupsLoad(26 + i, mem(table, 64 * i));
        }
        Label block = new Label();
        x.bind(block);
        x.mov(row, src);
        for (int k = 0; k < 8; k++) {
            x.vmovupsLoad(k, mem(row, 0));
            x.add(row, ld);
        }
        // rows 2q, 2q+1 paired: zmm 8+2q positions 0-7, zmm 9+2q positions 8-15
        for (int q = 0; q < 4; q++) {
            for (int s = 0; s < 2; s++) {
                x.vmovaps(8 + 2 * q + s, 2 * q);
                x.vpermt2ps(8 + 2 * q + s, 26 + s, 2 * q + 1);
            }
        }
        // rows 4h .. 4h+3 of positions 8s + 4t .. +3: zmm 16 + 4h + 2s + t
        for (int h = 0; h < 2; h++) {
            for (int s = 0; s < 2; s++) {
                for (int t = 0; t < 2; t++) {
                    int z = 16 + 4 * h + 2 * s + t;
                    x.vmovaps(z, 8 + 4 * h + s);
                    x.vpermt2ps(z, 28 + t, 8 + 4 * h + 2 + s);
                }
            }
        }
        // positions 4g .. 4g+3 (g = 2s + t), two per result, rows 0-3 beside rows 4-7
        for (int g = 0; g < 4; g++) {
            for (int half = 0; half < 2; half++) {
                int z = 2 * g + half;
                x.vmovaps(z, 16 + g);
                x.vpermt2ps(z, 30 + half, 20 + g);
                x.vmovupsStore(mem(dst, 128 * g + 64 * half), z);
            }
        }
        x.addImm(src, 64);
        x.addImm(dst, 512);
        x.dec(blocks);
        x.jnz(block);
        x.vzeroupper();
        x.ret();
        return x.bytes();
    }

    /** Registers of the transposes' loop nest ({@link #blockLoops}). */
    private static final int DST = RDI, SRC = RSI, BIAS = RDX, ARGS = RCX, D_STRIDE = R8, LD = R9;
    private static final int SW = R10, DW = R11, ROW = RAX, ROWS = R12, COLS = R13, LD_N = R14, D_STRIDE_N = R15;

    /**
     * The loop nest every transpose shares, for blocks of {@code n x n} floats: saves r12-r15, reads
     * {@code args}, then per column block and row block emits {@code body} with {@link #SW} at the
     * source block's first row and {@link #DW} at the destination block (its rows {@link #D_STRIDE}
     * bytes apart, the source's {@link #LD}); {@link #BIAS} steps along the bias with the column
     * blocks when {@code bias}. {@link #ROW} and {@link #BIAS} (when not {@code bias}) are the
     * body's to use. With {@code rowsOuter} (not with {@code bias}) the row blocks are the outer
     * loop: the source lines of one row block are used by consecutive column blocks (see
     * {@link #transpose8}).
     */
    private static byte[] blockLoops(int n, boolean bias, boolean rowsOuter, java.util.function.Consumer<X86Asm> body) {
        if (bias && rowsOuter) {
            throw new IllegalArgumentException("TransposeCode: a bias steps with the column blocks, which must be outer");
        }
        X86Asm x = new X86Asm();
        int[] saved = {R12, R13, R14, R15};
        x.save(saved);
        x.addLoad(DST, mem(ARGS, 0));
        x.movLoad(D_STRIDE, mem(ARGS, 8));
        x.addLoad(SRC, mem(ARGS, 16));
        x.movLoad(LD, mem(ARGS, 24));
        // the outer loop's count, read once; the inner one's is read again per outer block
        int outer = rowsOuter ? ROWS : COLS;
        int inner = rowsOuter ? COLS : ROWS;
        x.movLoad(outer, mem(ARGS, rowsOuter ? 32 : 40));
        if (bias) {
            x.addLoad(BIAS, mem(ARGS, 48));
        }
        x.mov(LD_N, LD);
        x.mov(D_STRIDE_N, D_STRIDE);
        for (int i = 1; i < n; i *= 2) {
            x.add(LD_N, LD_N);
            x.add(D_STRIDE_N, D_STRIDE_N);
        }
        // a step to the next row block: n source rows, n destination floats; to the next column block: the reverse
        Label outerBlock = new Label();
        x.bind(outerBlock);
        x.mov(SW, SRC);
        x.mov(DW, DST);
        x.movLoad(inner, mem(ARGS, rowsOuter ? 40 : 32));
        Label innerBlock = new Label();
        x.bind(innerBlock);
        body.accept(x);
        if (rowsOuter) {
            x.addImm(SW, 4 * n);
            x.add(DW, D_STRIDE_N);
        } else {
            x.add(SW, LD_N);
            x.addImm(DW, 4 * n);
        }
        x.dec(inner);
        x.jnz(innerBlock);
        if (rowsOuter) {
            x.add(SRC, LD_N);
            x.addImm(DST, 4 * n);
        } else {
            x.addImm(SRC, 4 * n);
            x.add(DST, D_STRIDE_N);
        }
        if (bias) {
            x.addImm(BIAS, 4 * n);
        }
        x.dec(outer);
        x.jnz(outerBlock);
        x.restoreAndReturn(saved);
        return x.bytes();
    }

    /** The transpose for {@code mode}. */
    public static byte[] transpose(Mode mode) {
        return blockLoops(16, true, false, x -> {
            x.mov(ROW, SW);
            for (int r = 0; r < 16; r++) {
                x.vmovupsLoad(r, mem(ROW, 0));
                x.add(ROW, LD);
            }
            // rows 2i, 2i+1 interleaved: zmm 16+2i (elements 0,1 of each lane), 16+2i+1 (2,3)
            for (int i = 0; i < 8; i++) {
                x.vunpcklps(16 + 2 * i, 2 * i, 2 * i + 1);
                x.vunpckhps(16 + 2 * i + 1, 2 * i, 2 * i + 1);
            }
            // zmm 4i+j, lane L: column 4L + j of rows 4i .. 4i+3
            for (int i = 0; i < 4; i++) {
                int t = 16 + 4 * i;
                x.vunpcklpd(4 * i, t, t + 2);
                x.vunpckhpd(4 * i + 1, t, t + 2);
                x.vunpcklpd(4 * i + 2, t + 1, t + 3);
                x.vunpckhpd(4 * i + 3, t + 1, t + 3);
            }
            // zmm 16+8h+j: columns j, 8+j (j < 4) or 4+j', 12+j' (j = 4+j') of rows 8h .. 8h+7, by lanes
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 4; j++) {
                    x.vshuff32x4(16 + 8 * h + j, 8 * h + j, 8 * h + 4 + j, 0x88);
                    x.vshuff32x4(16 + 8 * h + 4 + j, 8 * h + j, 8 * h + 4 + j, 0xDD);
                }
            }
            for (int j = 0; j < 8; j++) {
                x.vshuff32x4(j, 16 + j, 24 + j, 0x88);
                x.vshuff32x4(8 + j, 16 + j, 24 + j, 0xDD);
            }
            x.mov(ROW, DW);
            for (int c = 0; c < 16; c++) {
                if (mode == Mode.BIAS) {
                    x.vaddpsBcast(c, c, mem(BIAS, 4 * c));
                } else if (mode == Mode.ADD) {
                    x.vaddpsMem(c, c, mem(ROW, 0));
                }
                x.vmovupsStore(mem(ROW, 0), c);
                x.add(ROW, D_STRIDE);
            }
        });
    }

    /**
     * {@link Mode#WRITE}'s transpose in {@code 8 x 8} blocks through 16 ymm registers (AVX2), same
     * function and arguments as {@link #transpose} with 8 in place of 16: for
     * {@code r < 8*rowBlocks}, {@code c < 8*colBlocks}, {@code D[c*dStride + r] = S[r*ld + c]}.
     * Per block, row {@code i} (columns 0-3, then 4-7) goes to the low 128-bit lane of a register
     * and row {@code i + 4} to its high lane ({@code vmovups xmm} + {@code vinsertf128}), so that two
     * in-lane 4 x 4 transposes ({@code vunpcklps/vunpckhps}, {@code vunpcklpd/vunpckhpd}) leave
     * column {@code c} whole in one register: 16 loads, 16 shuffles and 8 stores per block, none
     * crossing lanes (the Vector API's two-vector {@code rearrange} costs two {@code vpermps} and
     * a {@code vblendvps} each, 24 per block, about 1 ns per float on Zen 1).
     *
     * <p>With {@code rowsOuter} the blocks go along the rows (all column blocks of 8 rows, then the
     * next 8 rows), else down the columns. Along the rows, a 64-byte source line serves two
     * consecutive blocks; down the columns, {@code 8*rowBlocks} other lines come between, and where
     * the source rows are a multiple of 4 KB apart all of them fall in one L1 set: a GEMM's B strip
     * (16 rows of 1024 floats into a packed strip) went down the columns at 0.41-0.45 ns per float,
     * along the rows at 0.24-0.25 (Zen 1; rows 1040 floats apart 0.18-0.19 and 0.20-0.21). Down the
     * columns is for a destination whose rows are far apart: each block completes the lines of its
     * 8 destination rows that the block above began (see {@code ConvDirect.transpose}).
     */
    public static byte[] transpose8(boolean rowsOuter) {
        final int row4 = BIAS;
        return blockLoops(8, false, rowsOuter, x -> {
            x.mov(ROW, SW);
            x.lea(row4, mem(SW, LD, 4, 0));
            eightColumns(x, ROW, row4, LD, 8);
            x.mov(ROW, DW);
            for (int c = 0; c < 8; c++) {
                x.vmovupsStoreY(mem(ROW, 0), c);
                if (c < 7) {
                    x.add(ROW, D_STRIDE);
                }
            }
        });
    }

    /**
     * Packs strips of {@code rows} rows (5 to 8) of a row-major matrix column by column, the layout of
     * the GEMM's packed A strips, {@code void f(dst, src, unused, args)}, {@code args} eight-byte
     * values {@code dOff, sOff, ld, blocks, strips, stripStride, stripLd} (bytes but
     * {@code blocks, strips}; {@code stripLd = rows*ld}): with {@code D = dst + dOff},
     * {@code S = src + sOff} (floats, strides in floats here), for {@code t < strips},
     * {@code p < 8*blocks}, {@code i < rows}: {@code D[t*stripStride + p*rows + i] = S[(t*rows + i)*ld + p]}.
     * It also writes {@code 8 - rows} floats of no meaning after each strip's last column,
     * {@code D[t*stripStride + 8*blocks*rows ...]}: the caller packs at least one more column there.
     *
     * <p>Per 8 columns as in {@link #transpose8}: row {@code i < 4} in a register's low 128-bit lane,
     * row {@code i + 4} (where there is one) in its high lane ({@code vmovups xmm} clears it
     * otherwise), two in-lane 4 x 4 transposes, then column {@code c} whole in one register, stored
     * as 8 floats at its place: each store's last {@code 8 - rows} floats are overwritten by the
     * next column's. 10 loads, 16 shuffles and 8 stores per 8 columns of a 5-row strip, against 40
     * scalar loads and stores.
     */
    public static byte[] packRows(int rows) {
        if (rows < 5 || rows > 8) {
            throw new IllegalArgumentException("TransposeCode.packRows: expected 5 to 8 rows, got " + rows);
        }
        final int dst = RDI, src = RSI, row4 = RDX, args = RCX, ld = R8, blocks = R9, sw = R10, dw = R11,
                row = RAX, strips = R12;
        X86Asm x = new X86Asm();
        x.save(strips);
        x.addLoad(dst, mem(args, 0));
        x.addLoad(src, mem(args, 8));
        x.movLoad(ld, mem(args, 16));
        x.movLoad(strips, mem(args, 32));
        Label strip = new Label();
        x.bind(strip);
        x.mov(sw, src);
        x.mov(dw, dst);
        x.movLoad(blocks, mem(args, 24));
        Label block = new Label();
        x.bind(block);
        x.mov(row, sw);
        x.lea(row4, mem(sw, ld, 4, 0));
        eightColumns(x, row, row4, ld, rows);
        for (int c = 0; c < 8; c++) {
            x.vmovupsStoreY(mem(dw, 4 * rows * c), c);
        }
        x.addImm(sw, 32);
        x.addImm(dw, 32 * rows);
        x.dec(blocks);
        x.jnz(block);
        x.addLoad(src, mem(args, 48));
        x.addLoad(dst, mem(args, 40));
        x.dec(strips);
        x.jnz(strip);
        x.restoreAndReturn(strips);
        return x.bytes();
    }

    /**
     * Eight columns of {@code rows} rows (4 to 8) into {@code ymm0-7}, column {@code c} in {@code ymm c}
     * (row {@code i} in lane {@code i}; lanes of missing rows zero): row {@code i < 4} loaded into a
     * register's low 128-bit lane ({@code vmovups xmm} clears the high one), row {@code i + 4} into
     * its high lane ({@code vinsertf128}), then per half of the columns two in-lane 4 x 4 transposes
     * through {@code ymm8-15}. {@code row} and {@code row4} start at rows 0 and 4 and step by
     * {@code ld} bytes (they end on rows 3 and 7, or the last row).
     */
    private static void eightColumns(X86Asm x, int row, int row4, int ld, int rows) {
        // ymm i: rows i | i+4, columns 0-3; ymm 4+i: the same rows, columns 4-7
        for (int i = 0; i < 4; i++) {
            x.vmovupsLoadX(i, mem(row, 0));
            if (4 + i < rows) {
                x.vinsertf128(i, i, mem(row4, 0), 1);
            }
            x.vmovupsLoadX(4 + i, mem(row, 16));
            if (4 + i < rows) {
                x.vinsertf128(4 + i, 4 + i, mem(row4, 16), 1);
            }
            if (i < 3) {
                x.add(row, ld);
                if (4 + i + 1 < rows) {
                    x.add(row4, ld);
                }
            }
        }
        // per half h (columns 4h .. 4h+3): ymm 8+4h+j the rows paired, then column 4h+j in ymm 4h+j
        for (int h = 0; h < 2; h++) {
            int t = 4 * h;
            int a = 8 + 4 * h;
            x.vunpcklpsY(a, t, t + 1);
            x.vunpckhpsY(a + 1, t, t + 1);
            x.vunpcklpsY(a + 2, t + 2, t + 3);
            x.vunpckhpsY(a + 3, t + 2, t + 3);
            x.vunpcklpdY(t, a, a + 2);
            x.vunpckhpdY(t + 1, a, a + 2);
            x.vunpcklpdY(t + 2, a + 1, a + 3);
            x.vunpckhpdY(t + 3, a + 1, a + 3);
        }
    }

    /** Rows of a band in {@link #copyStrips}. */
    public static final int COPY_BAND = 8;

    /**
     * Copies rows of 16 floats into packed strips, {@code void f(dst, src, unused, args)}, {@code args}
     * eight-byte values {@code dOff, sOff, ld, bands, strips, stripStride, bandLd} (bytes but
     * {@code bands, strips}; {@code bandLd = 8*ld}): with {@code D = dst + dOff}, {@code S = src + sOff}
     * (floats, strides in floats here), for {@code s < strips}, {@code p < 8*bands}, {@code j < 16}:
     * {@code D[s*stripStride + p*16 + j] = S[p*ld + s*16 + j]}, a band of 8 rows into every strip
     * before the next band (the order of {@code GemmPack}'s banded copy). Two ymm loads and two
     * stores per row, no call per row: {@code System.arraycopy} of 64 bytes cost most of the time in
     * its call, and a Vector API copy, which ran at this rate, could end up boxing its vectors for
     * good after a JIT history with other shapes (6.3 MB per 64 x 1024 x 1024 product).
     */
    public static byte[] copyStrips() {
        final int dst = RDI, src = RSI, args = RCX, bands = RDX, ld = R8, row = R9, s = R10, d = R11, strips = RAX;
        X86Asm x = new X86Asm();
        x.addLoad(dst, mem(args, 0));
        x.addLoad(src, mem(args, 8));
        x.movLoad(ld, mem(args, 16));
        x.movLoad(bands, mem(args, 24));
        Label band = new Label();
        x.bind(band);
        x.movLoad(strips, mem(args, 32));
        x.mov(s, src);
        x.mov(d, dst);
        Label strip = new Label();
        x.bind(strip);
        x.mov(row, s);
        for (int r = 0; r < COPY_BAND; r++) {
            int y = 2 * (r & 1);
            x.vmovupsLoadY(y, mem(row, 0));
            x.vmovupsLoadY(y + 1, mem(row, 32));
            x.vmovupsStoreY(mem(d, 64 * r), y);
            x.vmovupsStoreY(mem(d, 64 * r + 32), y + 1);
            if (r < COPY_BAND - 1) {
                x.add(row, ld);
            }
        }
        x.addImm(s, 64);
        x.addLoad(d, mem(args, 40));
        x.dec(strips);
        x.jnz(strip);
        x.addLoad(src, mem(args, 48));
        x.addImm(dst, 64 * COPY_BAND);
        x.dec(bands);
        x.jnz(band);
        x.vzeroupper();
        x.ret();
        return x.bytes();
    }
}
