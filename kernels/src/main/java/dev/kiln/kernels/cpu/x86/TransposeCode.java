package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of a float matrix transpose in {@code 16 x 16} blocks, each through the 32 zmm
 * registers in four rounds of shuffles ({@code vunpcklps/vunpckhps}, {@code vunpcklpd/vunpckhpd},
 * then {@code vshuff32x4} twice: 64 shuffles, 16 loads and 16 stores per block), with what it
 * stores optionally plus a value per destination row (a bias: {@link Mode#BIAS}) or plus what the
 * destination holds ({@link Mode#ADD}).
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

    /** The transpose for {@code mode}. */
    public static byte[] transpose(Mode mode) {
        final int dst = RDI, src = RSI, bias = RDX, args = RCX, dStride = R8, ld = R9;
        final int sw = R10, dw = R11, row = RAX, rows = R12, cols = R13, ld16 = R14, dStride16 = R15;
        X86Asm x = new X86Asm();
        int[] saved = {R12, R13, R14, R15};
        for (int r : saved) {
            x.push(r);
        }
        x.addLoad(dst, mem(args, 0));
        x.movLoad(dStride, mem(args, 8));
        x.addLoad(src, mem(args, 16));
        x.movLoad(ld, mem(args, 24));
        x.movLoad(cols, mem(args, 40));
        x.addLoad(bias, mem(args, 48));
        x.mov(ld16, ld);
        x.mov(dStride16, dStride);
        for (int i = 0; i < 4; i++) {
            x.add(ld16, ld16);
            x.add(dStride16, dStride16);
        }
        Label colBlock = new Label();
        x.bind(colBlock);
        x.mov(sw, src);
        x.mov(dw, dst);
        x.movLoad(rows, mem(args, 32));
        Label rowBlock = new Label();
        x.bind(rowBlock);
        x.mov(row, sw);
        for (int r = 0; r < 16; r++) {
            x.vmovupsLoad(r, mem(row, 0));
            x.add(row, ld);
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
        x.mov(row, dw);
        for (int c = 0; c < 16; c++) {
            if (mode == Mode.BIAS) {
                x.vaddpsBcast(c, c, mem(bias, 4 * c));
            } else if (mode == Mode.ADD) {
                x.vaddpsMem(c, c, mem(row, 0));
            }
            x.vmovupsStore(mem(row, 0), c);
            x.add(row, dStride);
        }
        x.add(sw, ld16);
        x.addImm(dw, 64);
        x.dec(rows);
        x.jnz(rowBlock);
        x.addImm(src, 64);
        x.add(dst, dStride16);
        x.addImm(bias, 64);
        x.dec(cols);
        x.jnz(colBlock);
        for (int i = saved.length - 1; i >= 0; i--) {
            x.pop(saved[i]);
        }
        x.vzeroupper();
        x.ret();
        return x.bytes();
    }
}
