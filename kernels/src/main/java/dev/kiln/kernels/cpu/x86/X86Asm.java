package dev.kiln.kernels.cpu.x86;

import java.util.Arrays;

/**
 * A minimal x86-64 encoder for exactly the instructions Kiln's run-time generated kernels use:
 * VEX-encoded 256-bit loads, stores and in-lane shuffles of an AVX2 transpose ({@code vmovups},
 * {@code vinsertf128}, {@code vunpckl/hps}, {@code vunpckl/hpd}) and the integer ops of the AVX2 int8 GEMM
 * ({@code vpmaddwd}, {@code vpmovsxbw}, {@code vpaddd}, {@code vpxor}, {@code vpbroadcastd}, {@code vmovdqu}), EVEX-encoded 512-bit integer ops ({@code vpdpbusd}, {@code vpbroadcastd}, {@code vmovdqu32/8},
 * {@code vpxord}, {@code vpaddd}) and float ops ({@code vfmadd231ps}, also with a broadcast operand,
 * {@code vaddps}, {@code vbroadcastss}, {@code vmovups}, and the shuffles and permutes of register transposes), a few 64-bit GPR ops (and a 32-bit load and move), conditional jumps,
 * {@code prefetcht0}, {@code vzeroupper}, {@code push}/{@code pop} and {@code ret}. Method operands
 * are in Intel order (destination first).
 *
 * <p>Registers are numbers: general-purpose registers 0-15 in the hardware order
 * ({@link #RAX} .. {@link #R15}), vector registers {@code zmm0-zmm31} as 0-31. Memory operands are
 * {@code [base + index*scale + disp]} ({@link #mem}); no RIP-relative or base-less forms. EVEX
 * displacements use the compressed {@code disp8*N} form when they fit, as GNU {@code as} does, so
 * the bytes match its output (checked by golden tests).
 */
public final class X86Asm {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public static final int R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
    /** Marks an absent index register. */
    public static final int NONE = -1;

    /** {@code [base + index*scale + disp]}; index {@link #NONE} for none. */
    public record Mem(int base, int index, int scale, int disp) {
        public Mem {
            checkGpr(base);
            if (index != NONE) {
                checkGpr(index);
                if (index == RSP) {
                    throw new IllegalArgumentException("x86: rsp cannot be an index register");
                }
            }
            if (scale != 1 && scale != 2 && scale != 4 && scale != 8) {
                throw new IllegalArgumentException("x86: expected scale 1, 2, 4 or 8, got " + scale);
            }
        }
    }

    /** A jump target; bound once, backward or forward. */
    public static final class Label {
        private int pos = -1;
        private int[] fixups = new int[0];
    }

    private byte[] buf = new byte[256];
    private int size;

    public static Mem mem(int base, int disp) {
        return new Mem(base, NONE, 1, disp);
    }

    public static Mem mem(int base, int index, int scale, int disp) {
        return new Mem(base, index, scale, disp);
    }

    /** The bytes emitted so far. */
    public byte[] bytes() {
        return Arrays.copyOf(buf, size);
    }

    public int size() {
        return size;
    }

    // ---- EVEX vector instructions (512-bit) ----

    /** {@code vpdpbusd zd, za, zb}: {@code zd.i32 += sum of 4 products za.u8 * zb.s8} (no saturation). */
    public void vpdpbusd(int zd, int za, int zb) {
        evexRR(1, 2, 0, 0x50, zd, za, zb);
    }

    /** {@code vpdpbusd zd, za, [m]{1to16}}: B's signed quad broadcast from memory. */
    public void vpdpbusdBcast(int zd, int za, Mem m) {
        evexRM(1, 2, 0, 0x50, zd, za, m, true, 4);
    }

    /** {@code vpdpbusd zd, za, zmmword [m]}: 64 signed bytes of B from memory. */
    public void vpdpbusdMem(int zd, int za, Mem m) {
        evexRM(1, 2, 0, 0x50, zd, za, m, false, 64);
    }

    /** {@code vpbroadcastd zd, dword [m]}. */
    public void vpbroadcastd(int zd, Mem m) {
        evexRM(1, 2, 0, 0x58, zd, 0, m, false, 4);
    }

    /** {@code vmovdqu32 zd, [m]}. */
    public void vmovdqu32Load(int zd, Mem m) {
        evexRM(2, 1, 0, 0x6F, zd, 0, m, false, 64);
    }

    /** {@code vmovdqu32 [m], zs}. */
    public void vmovdqu32Store(Mem m, int zs) {
        evexRM(2, 1, 0, 0x7F, zs, 0, m, false, 64);
    }

    /** {@code vmovdqu8 zd, [m]}. */
    public void vmovdqu8Load(int zd, Mem m) {
        evexRM(3, 1, 0, 0x6F, zd, 0, m, false, 64);
    }

    /** {@code vmovdqu8 [m], zs}. */
    public void vmovdqu8Store(Mem m, int zs) {
        evexRM(3, 1, 0, 0x7F, zs, 0, m, false, 64);
    }

    /** {@code vpxord zd, za, zb}. */
    public void vpxord(int zd, int za, int zb) {
        evexRR(1, 1, 0, 0xEF, zd, za, zb);
    }

    /** {@code vpaddd zd, za, zb}. */
    public void vpaddd(int zd, int za, int zb) {
        evexRR(1, 1, 0, 0xFE, zd, za, zb);
    }

    /** {@code vbroadcastss zd, dword [m]}. */
    public void vbroadcastss(int zd, Mem m) {
        evexRM(1, 2, 0, 0x18, zd, 0, m, false, 4);
    }

    /** {@code vfmadd231ps zd, za, zmmword [m]}: {@code zd = za * [m] + zd}, one rounding. */
    public void vfmadd231psMem(int zd, int za, Mem m) {
        evexRM(1, 2, 0, 0xB8, zd, za, m, false, 64);
    }

    /** {@code vaddps zd, za, zmmword [m]}. */
    public void vaddpsMem(int zd, int za, Mem m) {
        evexRM(0, 1, 0, 0x58, zd, za, m, false, 64);
    }

    /** {@code vaddps zd, za, dword [m]{1to16}}. */
    public void vaddpsBcast(int zd, int za, Mem m) {
        evexRM(0, 1, 0, 0x58, zd, za, m, true, 4);
    }

    /** {@code vunpcklps zd, za, zb}: per 128-bit lane, {@code a0 b0 a1 b1}. */
    public void vunpcklps(int zd, int za, int zb) {
        evexRR(0, 1, 0, 0x14, zd, za, zb);
    }

    /** {@code vunpckhps zd, za, zb}: per 128-bit lane, {@code a2 b2 a3 b3}. */
    public void vunpckhps(int zd, int za, int zb) {
        evexRR(0, 1, 0, 0x15, zd, za, zb);
    }

    /** {@code vunpcklpd zd, za, zb}: per 128-bit lane, the low 64 bits of {@code za}, then of {@code zb}. */
    public void vunpcklpd(int zd, int za, int zb) {
        evexRR(1, 1, 1, 0x14, zd, za, zb);
    }

    /** {@code vunpckhpd zd, za, zb}: per 128-bit lane, the high 64 bits of {@code za}, then of {@code zb}. */
    public void vunpckhpd(int zd, int za, int zb) {
        evexRR(1, 1, 1, 0x15, zd, za, zb);
    }

    /**
     * {@code vshuff32x4 zd, za, zb, imm}: 128-bit lanes 0-1 of {@code zd} from {@code za}'s lanes
     * {@code imm[1:0], imm[3:2]}, lanes 2-3 from {@code zb}'s lanes {@code imm[5:4], imm[7:6]}.
     */
    public void vshuff32x4(int zd, int za, int zb, int imm) {
        evexRR(1, 3, 0, 0x23, zd, za, zb);
        emit(imm);
    }

    /** {@code vpermt2ps zd, zi, zb}: lane {@code l} of {@code zd} becomes lane {@code zi[l] & 15} of {@code zd} (bit 4 clear) or of {@code zb} (set). */
    public void vpermt2ps(int zd, int zi, int zb) {
        evexRR(1, 2, 0, 0x7F, zd, zi, zb);
    }

    /** {@code vmovaps zd, zs}. */
    public void vmovaps(int zd, int zs) {
        evexRR(0, 1, 0, 0x28, zd, 0, zs);
    }

    /** {@code vmovups zd, [m]}. */
    public void vmovupsLoad(int zd, Mem m) {
        evexRM(0, 1, 0, 0x10, zd, 0, m, false, 64);
    }

    /** {@code vmovups [m], zs}. */
    public void vmovupsStore(Mem m, int zs) {
        evexRM(0, 1, 0, 0x11, zs, 0, m, false, 64);
    }

    // ---- VEX-encoded AVX instructions (ymm0-15 / xmm0-15 as 0-15) ----

    /** {@code vmovups ymm, [m]} (256 bits). */
    public void vmovupsLoadY(int yd, Mem m) {
        vexRM(0, 1, 1, 0x10, yd, 0, m);
    }

    /** {@code vmovups xmm, [m]} (128 bits; the upper half of the ymm register is zeroed). */
    public void vmovupsLoadX(int xd, Mem m) {
        vexRM(0, 1, 0, 0x10, xd, 0, m);
    }

    /** {@code vmovups [m], ymm}. */
    public void vmovupsStoreY(Mem m, int ys) {
        vexRM(0, 1, 1, 0x11, ys, 0, m);
    }

    /** {@code vinsertf128 yd, ya, [m], imm}: {@code ya} with 128-bit lane {@code imm & 1} replaced by the 16 bytes at {@code m}. */
    public void vinsertf128(int yd, int ya, Mem m, int imm) {
        vexRM(1, 3, 1, 0x18, yd, ya, m);
        emit(imm);
    }

    /** {@code vunpcklps yd, ya, yb}: per 128-bit lane, {@code a0 b0 a1 b1}. */
    public void vunpcklpsY(int yd, int ya, int yb) {
        vexRR(0, 1, 0x14, yd, ya, yb);
    }

    /** {@code vunpckhps yd, ya, yb}: per 128-bit lane, {@code a2 b2 a3 b3}. */
    public void vunpckhpsY(int yd, int ya, int yb) {
        vexRR(0, 1, 0x15, yd, ya, yb);
    }

    /** {@code vunpcklpd yd, ya, yb}: per 128-bit lane, the low 64 bits of {@code ya}, then of {@code yb}. */
    public void vunpcklpdY(int yd, int ya, int yb) {
        vexRR(1, 1, 0x14, yd, ya, yb);
    }

    /** {@code vunpckhpd yd, ya, yb}: per 128-bit lane, the high 64 bits of {@code ya}, then of {@code yb}. */
    public void vunpckhpdY(int yd, int ya, int yb) {
        vexRR(1, 1, 0x15, yd, ya, yb);
    }

    /**
     * {@code vpmaddwd yd, ya, [m]}: per 32-bit lane, the two signed 16-bit products of {@code ya}
     * and the 32 bytes at {@code m}, added (exact, wrapping only for {@code -32768 * -32768} twice).
     */
    public void vpmaddwdY(int yd, int ya, Mem m) {
        vexRM(1, 1, 1, 0xF5, yd, ya, m);
    }

    /** {@code vpmaddwd yd, ya, yb} (256 bits): {@link #vpmaddwdY} with the second operand in a register. */
    public void vpmaddwdYY(int yd, int ya, int yb) {
        vexRR(1, 1, 0xF5, yd, ya, yb);
    }

    /** {@code vpmaddubsw yd, ya, yb} (256 bits): unsigned bytes of ya times signed bytes of yb, pairs added with signed saturation to 16 bits. */
    public void vpmaddubswYY(int yd, int ya, int yb) {
        vexRR(1, 2, 0x04, yd, ya, yb);
    }

    /** {@code vpcmpeqw yd, ya, yb} (256 bits): per 16-bit lane all ones where equal ({@code vpcmpeqw y, y, y}: all ones). */
    public void vpcmpeqwYY(int yd, int ya, int yb) {
        vexRR(1, 1, 0x75, yd, ya, yb);
    }

    /** {@code vpsrlw yd, ys, imm} (256 bits): each 16-bit lane shifted right logically by {@code imm}. */
    public void vpsrlwY(int yd, int ys, int imm) {
        vexRR(1, 1, 0x71, 2, yd, ys);
        emit(imm & 0xff);
    }

    /** {@code vpmovsxbw ymm, xmmword [m]}: 16 signed bytes widened to 16 signed 16-bit lanes. */
    public void vpmovsxbwY(int yd, Mem m) {
        vexRM(1, 2, 1, 0x20, yd, 0, m);
    }

    /** {@code vpaddd yd, ya, yb} (256 bits). */
    public void vpadddY(int yd, int ya, int yb) {
        vexRR(1, 1, 0xFE, yd, ya, yb);
    }

    /** {@code vpxor yd, ya, yb} (256 bits). */
    public void vpxorY(int yd, int ya, int yb) {
        vexRR(1, 1, 0xEF, yd, ya, yb);
    }

    /** {@code vbroadcastss ymm, dword [m]}. */
    public void vbroadcastssY(int yd, Mem m) {
        vexRM(1, 2, 1, 0x18, yd, 0, m);
    }

    /** {@code vfmadd231ps yd, ya, ymmword [m]}: {@code yd = ya * [m] + yd}, one rounding. */
    public void vfmadd231psY(int yd, int ya, Mem m) {
        vexRM(1, 2, 1, 0xB8, yd, ya, m);
    }

    /** {@code vfmadd231ps yd, ya, yb}: {@code yd = ya * yb + yd}, one rounding. */
    public void vfmadd231psYY(int yd, int ya, int yb) {
        vexRR(1, 2, 0xB8, yd, ya, yb);
    }

    /** {@code vaddps yd, ya, ymmword [m]}. */
    public void vaddpsY(int yd, int ya, Mem m) {
        vexRM(0, 1, 1, 0x58, yd, ya, m);
    }

    /**
     * {@code vmaxps yd, ya, yb}: per lane {@code ya > yb ? ya : yb}, so {@code yb} where either is
     * NaN or both are zeros ({@code vmaxps yd, zero, v} is {@code v < 0 ? +0 : v} with NaN and
     * {@code -0} kept, Java's {@code v < 0 ? 0 : v}).
     */
    public void vmaxpsY(int yd, int ya, int yb) {
        vexRR(0, 1, 0x5F, yd, ya, yb);
    }

    /** {@code vxorps yd, ya, yb} (256 bits). */
    public void vxorpsY(int yd, int ya, int yb) {
        vexRR(0, 1, 0x57, yd, ya, yb);
    }

    /** {@code vpbroadcastd ymm, dword [m]}. */
    public void vpbroadcastdY(int yd, Mem m) {
        vexRM(1, 2, 1, 0x58, yd, 0, m);
    }

    /** {@code vmovdqu ymm, [m]}. */
    public void vmovdquLoadY(int yd, Mem m) {
        vexRM(2, 1, 1, 0x6F, yd, 0, m);
    }

    /** {@code vmovdqu [m], ymm}. */
    public void vmovdquStoreY(Mem m, int ys) {
        vexRM(2, 1, 1, 0x7F, ys, 0, m);
    }

    /** {@code vzeroupper}. */
    public void vzeroupper() {
        emit(0xC5, 0xF8, 0x77);
    }

    // ---- general-purpose instructions (64-bit operands) ----

    /** {@code mov rd, rs}. */
    public void mov(int rd, int rs) {
        rexRR(0x89, rs, rd);
    }

    /** {@code mov rd, qword [m]}. */
    public void movLoad(int rd, Mem m) {
        aluMem(0x8B, rd, m);
    }

    /** {@code mov rd32, dword [m]}: the upper half of {@code rd} cleared. */
    public void movLoad32(int rd, Mem m) {
        checkGpr(rd);
        int idx = m.index() == NONE ? 0 : m.index();
        if (((rd | idx | m.base()) & 8) != 0) {
            rex(false, rd, m);
        }
        emit(0x8B);
        modrm(rd & 7, m, 1);
    }

    /** {@code mov rd32, imm}: the upper half of {@code rd} cleared. */
    public void movImm32(int rd, int imm) {
        checkGpr(rd);
        if (rd >= 8) {
            emit(0x41);
        }
        emit(0xB8 | (rd & 7));
        emit32(imm);
    }

    /** {@code mov qword [m], rs}. */
    public void movStore(Mem m, int rs) {
        aluMem(0x89, rs, m);
    }

    /** {@code add rd, qword [m]}. */
    public void addLoad(int rd, Mem m) {
        aluMem(0x03, rd, m);
    }

    /** {@code imul rd, rs}. */
    public void imul(int rd, int rs) {
        checkGpr(rd);
        checkGpr(rs);
        emit(0x48 | (rd >> 3) << 2 | (rs >> 3));
        emit(0x0F, 0xAF, 0xC0 | (rd & 7) << 3 | (rs & 7));
    }

    /** {@code add rd, rs}. */
    public void add(int rd, int rs) {
        rexRR(0x01, rs, rd);
    }

    /** {@code sub rd, rs}. */
    public void sub(int rd, int rs) {
        rexRR(0x29, rs, rd);
    }

    /** {@code cmp ra, rb}. */
    public void cmp(int ra, int rb) {
        rexRR(0x39, rb, ra);
    }

    /** {@code add rd, imm}. */
    public void addImm(int rd, int imm) {
        aluImm(0, rd, imm);
    }

    /** {@code sub rd, imm}. */
    public void subImm(int rd, int imm) {
        aluImm(5, rd, imm);
    }

    /** {@code cmp rd, imm}. */
    public void cmpImm(int rd, int imm) {
        aluImm(7, rd, imm);
    }

    /** {@code dec rd}. */
    public void dec(int rd) {
        checkGpr(rd);
        emit(0x48 | (rd >> 3));
        emit(0xFF, 0xC8 | (rd & 7));
    }

    /** {@code lea rd, [m]}. */
    public void lea(int rd, Mem m) {
        aluMem(0x8D, rd, m);
    }

    /** {@code prefetcht0 [m]}. */
    public void prefetcht0(Mem m) {
        if (((m.base() | Math.max(m.index(), 0)) & 8) != 0) {
            rex(false, 0, m);
        }
        emit(0x0F, 0x18);
        modrm(1, m, 1);
    }

    /** {@code push r}. */
    public void push(int r) {
        checkGpr(r);
        if (r >= 8) {
            emit(0x41);
        }
        emit(0x50 | (r & 7));
    }

    /** {@code pop r}. */
    public void pop(int r) {
        checkGpr(r);
        if (r >= 8) {
            emit(0x41);
        }
        emit(0x58 | (r & 7));
    }

    public void ret() {
        emit(0xC3);
    }

    /** Pushes the callee-saved registers {@code regs} in order (a function's entry). */
    public void save(int... regs) {
        for (int r : regs) {
            push(r);
        }
    }

    /**
     * A function's exit: pops {@code regs} (as given to {@link #save}) in reverse order, then
     * {@code vzeroupper} and {@code ret}.
     */
    public void restoreAndReturn(int... regs) {
        for (int i = regs.length - 1; i >= 0; i--) {
            pop(regs[i]);
        }
        vzeroupper();
        ret();
    }

    /** Binds {@code l} here; patches the forward jumps to it. */
    public void bind(Label l) {
        if (l.pos >= 0) {
            throw new IllegalStateException("x86: label bound twice");
        }
        l.pos = size;
        for (int at : l.fixups) {
            int rel = size - (at + 4);
            buf[at] = (byte) rel;
            buf[at + 1] = (byte) (rel >> 8);
            buf[at + 2] = (byte) (rel >> 16);
            buf[at + 3] = (byte) (rel >> 24);
        }
        l.fixups = new int[0];
    }

    /** {@code jnz l}: rel8 for a bound label in reach, else rel32. */
    public void jnz(Label l) {
        jcc(0x5, l);
    }

    /** {@code jz l}. */
    public void jz(Label l) {
        jcc(0x4, l);
    }

    /** {@code jl l} (signed less). */
    public void jl(Label l) {
        jcc(0xC, l);
    }

    /** {@code jge l} (signed greater or equal). */
    public void jge(Label l) {
        jcc(0xD, l);
    }

    /** {@code jmp l}. */
    public void jmp(Label l) {
        if (l.pos >= 0 && fits8(l.pos - (size + 2))) {
            emit(0xEB, l.pos - (size + 2));
        } else {
            emit(0xE9);
            rel32(l, 4);
        }
    }

    private void jcc(int cc, Label l) {
        if (l.pos >= 0 && fits8(l.pos - (size + 2))) {
            emit(0x70 | cc, l.pos - (size + 2));
        } else {
            emit(0x0F, 0x80 | cc);
            rel32(l, 4);
        }
    }

    private void rel32(Label l, int len) {
        if (l.pos >= 0) {
            emit32(l.pos - (size + len));
        } else {
            l.fixups = Arrays.copyOf(l.fixups, l.fixups.length + 1);
            l.fixups[l.fixups.length - 1] = size;
            emit32(0);
        }
    }

    // ---- encoding helpers ----

    private void aluImm(int ext, int rd, int imm) {
        checkGpr(rd);
        emit(0x48 | (rd >> 3));
        if (fits8(imm)) {
            emit(0x83, 0xC0 | ext << 3 | (rd & 7), imm);
        } else if (rd == RAX) {
            emit(ext << 3 | 5);
            emit32(imm);
        } else {
            emit(0x81, 0xC0 | ext << 3 | (rd & 7));
            emit32(imm);
        }
    }

    /** REX.W op /r with register operands: {@code reg} in ModRM.reg, {@code rm} in ModRM.rm. */
    private void rexRR(int op, int reg, int rm) {
        checkGpr(reg);
        checkGpr(rm);
        emit(0x48 | (reg >> 3) << 2 | (rm >> 3));
        emit(op, 0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    /** REX.W op /r with {@code rd} in ModRM.reg and a memory operand (which is read or written: {@code op}'s choice). */
    private void aluMem(int op, int rd, Mem m) {
        checkGpr(rd);
        rex(true, rd, m);
        emit(op);
        modrm(rd & 7, m, 1);
    }

    private void rex(boolean w, int reg, Mem m) {
        int idx = m.index() == NONE ? 0 : m.index();
        emit(0x40 | (w ? 8 : 0) | (reg >> 3) << 2 | (idx >> 3) << 1 | (m.base() >> 3));
    }

    /**
     * EVEX prefix: {@code pp} (0 none, 1 66, 2 F3, 3 F2), {@code mmm} (1 0F, 2 0F38, 3 0F3A), W;
     * {@code reg} the ModRM.reg vector (0-31), {@code vvvv} the second source (0-31; 0 when unused),
     * {@code x}/{@code b} the ModRM.rm extension bits, {@code bcast} the EVEX.b bit.
     */
    private void evex(int pp, int mmm, int w, int reg, int vvvv, int x, int b, boolean bcast) {
        int p0 = (~reg >> 3 & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | (~reg >> 4 & 1) << 4 | mmm;
        int p1 = w << 7 | (~vvvv & 15) << 3 | 4 | pp;
        int p2 = 2 << 5 | (bcast ? 1 << 4 : 0) | (~vvvv >> 4 & 1) << 3;
        emit(0x62, p0, p1, p2);
    }

    private void evexRR(int pp, int mmm, int w, int op, int zd, int za, int zb) {
        checkZmm(zd);
        checkZmm(za);
        checkZmm(zb);
        evex(pp, mmm, w, zd, za, zb >> 4, zb >> 3, false);
        emit(op, 0xC0 | (zd & 7) << 3 | (zb & 7));
    }

    private void evexRM(int pp, int mmm, int w, int op, int zr, int zv, Mem m, boolean bcast, int n) {
        checkZmm(zr);
        checkZmm(zv);
        int idx = m.index() == NONE ? 0 : m.index();
        evex(pp, mmm, w, zr, zv, idx >> 3, m.base() >> 3, bcast);
        emit(op);
        modrm(zr & 7, m, n);
    }

    /**
     * VEX prefix (the two-byte form where it can encode the operands): {@code pp} (0 none, 1 66, 2 F3, 3 F2), {@code mmmmm} (1 0F, 2 0F38,
     * 3 0F3A), W0, {@code l} (0: 128 bits, 1: 256), {@code reg} the ModRM.reg register (0-15),
     * {@code vvvv} the second source (0 when unused), {@code x}/{@code b} the ModRM.rm extension bits.
     */
    private void vex(int pp, int mmmmm, int l, int reg, int vvvv, int x, int b) {
        if (mmmmm == 1 && (x & 1) == 0 && (b & 1) == 0) {
            // the two-byte form (0F map, W0, no X or B extension), as GNU as emits it
            emit(0xC5, (~reg >> 3 & 1) << 7 | (~vvvv & 15) << 3 | l << 2 | pp);
            return;
        }
        emit(0xC4, (~reg >> 3 & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | mmmmm, (~vvvv & 15) << 3 | l << 2 | pp);
    }

    /** A 256-bit VEX op with three registers. */
    private void vexRR(int pp, int mmmmm, int op, int yd, int ya, int yb) {
        checkYmm(yd);
        checkYmm(ya);
        checkYmm(yb);
        vex(pp, mmmmm, 1, yd, ya, 0, yb >> 3);
        emit(op, 0xC0 | (yd & 7) << 3 | (yb & 7));
    }

    /** A VEX op of length {@code l} with a register, a second source ({@code vvvv}) and a memory operand. */
    private void vexRM(int pp, int mmmmm, int l, int op, int yr, int yv, Mem m) {
        checkYmm(yr);
        checkYmm(yv);
        int idx = m.index() == NONE ? 0 : m.index();
        vex(pp, mmmmm, l, yr, yv, idx >> 3, m.base() >> 3);
        emit(op);
        modrm(yr & 7, m, 1);
    }

    private static void checkYmm(int y) {
        if (y < 0 || y > 15) {
            throw new IllegalArgumentException("x86: expected ymm0-ymm15, got " + y);
        }
    }

    /** ModRM (+ SIB, + displacement) for a memory operand; {@code n} the disp8 scale (1 for legacy). */
    private void modrm(int reg, Mem m, int n) {
        int base = m.base() & 7;
        int disp = m.disp();
        int mod;
        if (disp == 0 && base != RBP) {
            mod = 0;
        } else if (disp % n == 0 && fits8(disp / n)) {
            mod = 1;
        } else {
            mod = 2;
        }
        boolean sib = m.index() != NONE || base == RSP;
        emit(mod << 6 | reg << 3 | (sib ? 4 : base));
        if (sib) {
            int idx = m.index() == NONE ? 4 : m.index() & 7;
            int ss = Integer.numberOfTrailingZeros(m.scale());
            emit(ss << 6 | idx << 3 | base);
        }
        if (mod == 1) {
            emit(disp / n);
        } else if (mod == 2) {
            emit32(disp);
        }
    }

    private static boolean fits8(int v) {
        return v >= -128 && v <= 127;
    }

    private static void checkGpr(int r) {
        if (r < 0 || r > 15) {
            throw new IllegalArgumentException("x86: expected a general-purpose register 0-15, got " + r);
        }
    }

    private static void checkZmm(int z) {
        if (z < 0 || z > 31) {
            throw new IllegalArgumentException("x86: expected zmm0-zmm31, got " + z);
        }
    }

    private void emit32(int v) {
        emit(v, v >> 8, v >> 16, v >> 24);
    }

    private void emit(int... bs) {
        if (size + bs.length > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(2 * buf.length, size + bs.length));
        }
        for (int b : bs) {
            buf[size++] = (byte) b;
        }
    }
}
