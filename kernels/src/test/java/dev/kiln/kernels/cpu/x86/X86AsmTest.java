package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.kernels.cpu.x86.X86Asm.Label;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link X86Asm} against GNU {@code as}. Each case holds the AT&T source given to {@code as}
 * (" | " separates lines), the bytes {@code as} produced for it (GNU Binutils 2.40,
 * {@code as --64 case.s && objcopy -O binary --only-section=.text}) and the encoder calls that must
 * produce the same bytes. {@link #gnuAsAgrees} repeats the assembly when {@code as} and
 * {@code objcopy} are on PATH, so a new case can be checked (and its golden bytes taken) there.
 */
class X86AsmTest {
    private record Case(String att, String hex, Consumer<X86Asm> emit) {
    }

    private static Case c(String att, String hex, Consumer<X86Asm> emit) {
        return new Case(att, hex, emit);
    }

    private static final List<Case> CASES = List.of(
            c("vmovups 16(%rax), %xmm3", "c5f8105810", a -> { a.vmovupsLoadX(3, mem(RAX, 16)); }),
            c("vinsertf128 $1, 16(%rdx,%r9,4), %ymm4, %ymm12", "c4235d18648a1001",
                    a -> { a.vinsertf128(12, 4, mem(RDX, R9, 4, 16), 1); }),
            c("vmovups (%r11), %ymm9", "c4417c100b", a -> { a.vmovupsLoadY(9, mem(R11, 0)); }),
            c("vmovups %ymm15, (%rax)", "c57c1138", a -> { a.vmovupsStoreY(mem(RAX, 0), 15); }),
            c("vunpcklps %ymm13, %ymm0, %ymm8", "c4417c14c5", a -> { a.vunpcklpsY(8, 0, 13); }),
            c("vunpckhps %ymm2, %ymm9, %ymm1", "c5b415ca", a -> { a.vunpckhpsY(1, 9, 2); }),
            c("vunpcklpd %ymm10, %ymm8, %ymm0", "c4c13d14c2", a -> { a.vunpcklpdY(0, 8, 10); }),
            c("vunpckhpd %ymm7, %ymm14, %ymm15", "c50d15ff", a -> { a.vunpckhpdY(15, 14, 7); }),
            c("vpmaddwd 32(%rbx), %ymm12, %ymm14", "c51df57320", a -> { a.vpmaddwdY(14, 12, mem(RBX, 32)); }),
            c("vpmaddwd (%r11,%r10,2), %ymm3, %ymm9", "c40165f50c53", a -> { a.vpmaddwdY(9, 3, mem(R11, R10, 2, 0)); }),
            c("vpmovsxbw 16(%rax), %ymm12", "c4627d206010", a -> { a.vpmovsxbwY(12, mem(RAX, 16)); }),
            c("vpmovsxbw (%r10,%rdx,2), %ymm3", "c4c27d201c52", a -> { a.vpmovsxbwY(3, mem(R10, RDX, 2, 0)); }),
            c("vpmaddwd (%rcx), %ymm12, %ymm14", "c51df531", a -> { a.vpmaddwdY(14, 12, mem(RCX, 0)); }),
            c("vpmaddwd %ymm12, %ymm14, %ymm15", "c4410df5fc", a -> { a.vpmaddwdYY(15, 14, 12); }),
            c("vpmaddubsw %ymm13, %ymm12, %ymm15", "c4421d04fd", a -> { a.vpmaddubswYY(15, 12, 13); }),
            c("vpcmpeqw %ymm14, %ymm14, %ymm14", "c4410d75f6", a -> { a.vpcmpeqwYY(14, 14, 14); }),
            c("vpsrlw $15, %ymm14, %ymm14", "c4c10d71d60f", a -> { a.vpsrlwY(14, 14, 15); }),
            c("vpaddd %ymm14, %ymm0, %ymm0", "c4c17dfec6", a -> { a.vpadddY(0, 0, 14); }),
            c("vpaddd %ymm9, %ymm11, %ymm8", "c44125fec1", a -> { a.vpadddY(8, 11, 9); }),
            c("vpxor %ymm5, %ymm5, %ymm5", "c5d5efed", a -> { a.vpxorY(5, 5, 5); }),
            c("vpxor %ymm11, %ymm11, %ymm11", "c44125efdb", a -> { a.vpxorY(11, 11, 11); }),
            c("vbroadcastss (%rcx,%r10,4), %ymm8", "c4227d180491", a -> { a.vbroadcastssY(8, mem(RCX, R10, 4, 0)); }),
            c("vbroadcastss 8(%rcx), %ymm3", "c4e27d185908", a -> { a.vbroadcastssY(3, mem(RCX, 8)); }),
            c("vfmadd231ps 32(%r8,%rax), %ymm8, %ymm1", "c4c23db84c0020", a -> { a.vfmadd231psY(1, 8, mem(R8, RAX, 1, 32)); }),
            c("vfmadd231ps 224(%r8,%rax), %ymm8, %ymm7", "c4c23db8bc00e0000000",
                    a -> { a.vfmadd231psY(7, 8, mem(R8, RAX, 1, 224)); }),
            c("vfmadd231ps (%r8,%r9), %ymm8, %ymm0", "c4823db80408", a -> { a.vfmadd231psY(0, 8, mem(R8, R9, 1, 0)); }),
            c("vfmadd231ps 64(%r11), %ymm12, %ymm10", "c4421db85340", a -> { a.vfmadd231psY(10, 12, mem(R11, 64)); }),
            c("vfmadd231ps %ymm11, %ymm12, %ymm9", "c4421db8cb", a -> { a.vfmadd231psYY(9, 12, 11); }),
            // the direct conv tiles' forms (FmaConvCode): input at a tap offset scaled by 4, rows of the tile from r14
            c("vmovups 32(%rsi,%r11,4), %ymm12", "c4217c10649e20", a -> { a.vmovupsLoadY(12, mem(RSI, R11, 4, 32)); }),
            c("vmovups (%rsi,%r11,4), %ymm13", "c4217c102c9e", a -> { a.vmovupsLoadY(13, mem(RSI, R11, 4, 0)); }),
            c("vfmadd231ps 160(%rsi,%r11,4), %ymm14, %ymm5", "c4a20db8ac9ea0000000",
                    a -> { a.vfmadd231psY(5, 14, mem(RSI, R11, 4, 160)); }),
            c("vmovups %ymm11, 32(%r14,%r9,1)", "c4017c115c0e20", a -> { a.vmovupsStoreY(mem(R14, R9, 1, 32), 11); }),
            c("vmovups %ymm0, (%r14)", "c4c17c1106", a -> { a.vmovupsStoreY(mem(R14, 0), 0); }),
            c("vmovups %ymm7, 32(%r13,%r9,1)", "c4817c117c0d20", a -> { a.vmovupsStoreY(mem(R13, R9, 1, 32), 7); }),
            c("vfmadd231ps %ymm1, %ymm2, %ymm3", "c4e26db8d9", a -> { a.vfmadd231psYY(3, 2, 1); }),
            c("vaddps 32(%rdx,%r12,2), %ymm4, %ymm4", "c4a15c58646220", a -> { a.vaddpsY(4, 4, mem(RDX, R12, 2, 32)); }),
            c("vaddps (%rcx), %ymm9, %ymm9", "c5345809", a -> { a.vaddpsY(9, 9, mem(RCX, 0)); }),
            c("vmaxps %ymm3, %ymm15, %ymm3", "c5845fdb", a -> { a.vmaxpsY(3, 15, 3); }),
            c("vmaxps %ymm9, %ymm10, %ymm12", "c4412c5fe1", a -> { a.vmaxpsY(12, 10, 9); }),
            c("vxorps %ymm15, %ymm15, %ymm15", "c4410457ff", a -> { a.vxorpsY(15, 15, 15); }),
            c("vxorps %ymm2, %ymm2, %ymm2", "c5ec57d2", a -> { a.vxorpsY(2, 2, 2); }),
            c("vpbroadcastd (%rax,%r10,2), %ymm12", "c4227d582450", a -> { a.vpbroadcastdY(12, mem(RAX, R10, 2, 0)); }),
            c("vpbroadcastd 4(%rax), %ymm13", "c4627d586804", a -> { a.vpbroadcastdY(13, mem(RAX, 4)); }),
            c("vpbroadcastd (%rax,%r11,1), %ymm3", "c4a27d581c18", a -> { a.vpbroadcastdY(3, mem(RAX, R11, 1, 0)); }),
            c("vmovdqu %ymm7, 64(%rdx,%rcx,2)", "c5fe7f7c4a40", a -> { a.vmovdquStoreY(mem(RDX, RCX, 2, 64), 7); }),
            c("vmovdqu %ymm10, (%rax)", "c57e7f10", a -> { a.vmovdquStoreY(mem(RAX, 0), 10); }),
            c("vmovdqu (%r9), %ymm8", "c4417e6f01", a -> { a.vmovdquLoadY(8, mem(R9, 0)); }),
            c("vpdpbusd %zmm2, %zmm1, %zmm0", "62f2754850c2", a -> { a.vpdpbusd(0, 1, 2); }),
            c("vpdpbusd %zmm31, %zmm24, %zmm23", "62823d4050ff", a -> { a.vpdpbusd(23, 24, 31); }),
            c("vpdpbusd %zmm9, %zmm17, %zmm8", "6252754050c1", a -> { a.vpdpbusd(8, 17, 9); }),
            c("vpdpbusd %zmm16, %zmm15, %zmm31", "6222054850f8", a -> { a.vpdpbusd(31, 15, 16); }),
            c("vpdpbusd (%rax){1to16}, %zmm25, %zmm3", "62f235505018", a -> { a.vpdpbusdBcast(3, 25, mem(RAX, 0)); }),
            c("vpdpbusd 8(%r10,%rdx,2){1to16}, %zmm1, %zmm16", "62c2755850445202", a -> { a.vpdpbusdBcast(16, 1, mem(R10, RDX, 2, 8)); }),
            c("vpdpbusd 4096(%r14,%r9,4){1to16}, %zmm30, %zmm9", "62120d50508c8e00100000", a -> { a.vpdpbusdBcast(9, 30, mem(R14, R9, 4, 4096)); }),
            c("vpdpbusd (%rax), %zmm24, %zmm3", "62f23d405018", a -> { a.vpdpbusdMem(3, 24, mem(RAX, 0)); }),
            c("vpdpbusd 64(%r10,%rdx,2), %zmm24, %zmm17", "62c23d40504c5201", a -> { a.vpdpbusdMem(17, 24, mem(R10, RDX, 2, 64)); }),
            c("vpdpbusd 100(%rsi), %zmm1, %zmm0", "62f27548508664000000", a -> { a.vpdpbusdMem(0, 1, mem(RSI, 100)); }),
            c("vpbroadcastd (%rax), %zmm31", "62627d485838", a -> { a.vpbroadcastd(31, mem(RAX, 0)); }),
            c("vpbroadcastd (%rax,%rdx,1), %zmm31", "62627d48583c10", a -> { a.vpbroadcastd(31, mem(RAX, RDX, 1, 0)); }),
            c("vpbroadcastd (%rax,%rdx,2), %zmm30", "62627d48583450", a -> { a.vpbroadcastd(30, mem(RAX, RDX, 2, 0)); }),
            c("vpbroadcastd (%r10,%rdx,2), %zmm31", "62427d48583c52", a -> { a.vpbroadcastd(31, mem(R10, RDX, 2, 0)); }),
            c("vpbroadcastd (%rsi,%r11,8), %zmm2", "62b27d485814de", a -> { a.vpbroadcastd(2, mem(RSI, R11, 8, 0)); }),
            c("vpbroadcastd 4(%r10), %zmm5", "62d27d48586a01", a -> { a.vpbroadcastd(5, mem(R10, 4)); }),
            c("vpbroadcastd 1024(%rsi), %zmm5", "62f27d4858ae00040000", a -> { a.vpbroadcastd(5, mem(RSI, 1024)); }),
            c("vpbroadcastd 508(%r13), %zmm12", "62527d4858657f", a -> { a.vpbroadcastd(12, mem(R13, 508)); }),
            c("vpbroadcastd -512(%rbx), %zmm12", "62727d48586380", a -> { a.vpbroadcastd(12, mem(RBX, -512)); }),
            c("vpbroadcastd 6(%rbx), %zmm12", "62727d4858a306000000", a -> { a.vpbroadcastd(12, mem(RBX, 6)); }),
            c("vpbroadcastd (%r13), %zmm20", "62c27d48586500", a -> { a.vpbroadcastd(20, mem(R13, 0)); }),
            c("vpbroadcastd (%rbp), %zmm20", "62e27d48586500", a -> { a.vpbroadcastd(20, mem(RBP, 0)); }),
            c("vpbroadcastd (%r12), %zmm7", "62d27d48583c24", a -> { a.vpbroadcastd(7, mem(R12, 0)); }),
            c("vmovdqu32 (%r11), %zmm24", "62417e486f03", a -> { a.vmovdqu32Load(24, mem(R11, 0)); }),
            c("vmovdqu32 192(%r11), %zmm27", "62417e486f5b03", a -> { a.vmovdqu32Load(27, mem(R11, 192)); }),
            c("vmovdqu32 100(%rsp), %zmm1", "62f17e486f8c2464000000", a -> { a.vmovdqu32Load(1, mem(RSP, 100)); }),
            c("vmovdqu32 -8192(%rdi), %zmm2", "62f17e486f5780", a -> { a.vmovdqu32Load(2, mem(RDI, -8192)); }),
            c("vmovdqu32 8192(%rdi), %zmm2", "62f17e486f9700200000", a -> { a.vmovdqu32Load(2, mem(RDI, 8192)); }),
            c("vmovdqu32 (%rdi,%rax,4), %zmm18", "62e17e486f1487", a -> { a.vmovdqu32Load(18, mem(RDI, RAX, 4, 0)); }),
            c("vmovdqu32 %zmm0, (%rcx)", "62f17e487f01", a -> { a.vmovdqu32Store(mem(RCX, 0), 0); }),
            c("vmovdqu32 %zmm23, 1472(%rcx)", "62e17e487f7917", a -> { a.vmovdqu32Store(mem(RCX, 1472), 23); }),
            c("vmovdqu32 %zmm17, (%r12,%r9,8)", "62817e487f0ccc", a -> { a.vmovdqu32Store(mem(R12, R9, 8, 0), 17); }),
            c("vmovdqu32 %zmm9, -64(%r15)", "62517e487f4fff", a -> { a.vmovdqu32Store(mem(R15, -64), 9); }),
            c("vmovdqu8 (%rsi), %zmm3", "62f17f486f1e", a -> { a.vmovdqu8Load(3, mem(RSI, 0)); }),
            c("vmovdqu8 %zmm3, 64(%r8)", "62d17f487f5801", a -> { a.vmovdqu8Store(mem(R8, 64), 3); }),
            c("vmovdqu8 %zmm28, 65(%r8)", "62417f487fa041000000", a -> { a.vmovdqu8Store(mem(R8, 65), 28); }),
            c("vpxord %zmm0, %zmm0, %zmm0", "62f17d48efc0", a -> { a.vpxord(0, 0, 0); }),
            c("vpxord %zmm23, %zmm23, %zmm23", "62a14540efff", a -> { a.vpxord(23, 23, 23); }),
            c("vpxord %zmm31, %zmm16, %zmm8", "62117d40efc7", a -> { a.vpxord(8, 16, 31); }),
            c("vpxord %zmm7, %zmm12, %zmm19", "62e11d48efdf", a -> { a.vpxord(19, 12, 7); }),
            c("vpaddd %zmm1, %zmm2, %zmm3", "62f16d48fed9", a -> { a.vpaddd(3, 2, 1); }),
            c("vpaddd %zmm29, %zmm18, %zmm7", "62916d40fefd", a -> { a.vpaddd(7, 18, 29); }),
            c("vbroadcastss (%rcx,%r10,4), %zmm8", "62327d48180491", a -> { a.vbroadcastss(8, mem(RCX, R10, 4, 0)); }),
            c("vbroadcastss 4(%rcx,%r10,4), %zmm9", "62327d48184c9101", a -> { a.vbroadcastss(9, mem(RCX, R10, 4, 4)); }),
            c("vbroadcastss 1024(%r13), %zmm31", "62427d4818bd00040000", a -> { a.vbroadcastss(31, mem(R13, 1024)); }),
            c("vfmadd231ps (%r8,%rax,1), %zmm8, %zmm0", "62d23d48b80400", a -> { a.vfmadd231psMem(0, 8, mem(R8, RAX, 1, 0)); }),
            c("vfmadd231ps 192(%r8,%r9,1), %zmm9, %zmm7", "62923548b87c0803", a -> { a.vfmadd231psMem(7, 9, mem(R8, R9, 1, 192)); }),
            c("vfmadd231ps 100(%rsi), %zmm24, %zmm17", "62e23d40b88e64000000", a -> { a.vfmadd231psMem(17, 24, mem(RSI, 100)); }),
            c("vaddps (%r15), %zmm3, %zmm3", "62d16448581f", a -> { a.vaddpsMem(3, 3, mem(R15, 0)); }),
            c("vaddps 64(%r15), %zmm20, %zmm20", "62c15c40586701", a -> { a.vaddpsMem(20, 20, mem(R15, 64)); }),
            c("vaddps 4096(%rcx,%rax,1), %zmm9, %zmm9", "62713448584c0140", a -> { a.vaddpsMem(9, 9, mem(RCX, RAX, 1, 4096)); }),
            c("vaddps (%rdx){1to16}, %zmm0, %zmm0", "62f17c585802", a -> { a.vaddpsBcast(0, 0, mem(RDX, 0)); }),
            c("vaddps 60(%rdx){1to16}, %zmm15, %zmm15", "62710458587a0f", a -> { a.vaddpsBcast(15, 15, mem(RDX, 60)); }),
            c("vunpcklps %zmm1, %zmm0, %zmm16", "62e17c4814c1", a -> { a.vunpcklps(16, 0, 1); }),
            c("vunpcklps %zmm31, %zmm14, %zmm2", "62910c4814d7", a -> { a.vunpcklps(2, 14, 31); }),
            c("vunpckhps %zmm1, %zmm0, %zmm17", "62e17c4815c9", a -> { a.vunpckhps(17, 0, 1); }),
            c("vunpckhps %zmm9, %zmm24, %zmm30", "62413c4015f1", a -> { a.vunpckhps(30, 24, 9); }),
            c("vunpcklpd %zmm18, %zmm16, %zmm0", "62b1fd4014c2", a -> { a.vunpcklpd(0, 16, 18); }),
            c("vunpcklpd %zmm3, %zmm2, %zmm29", "6261ed4814eb", a -> { a.vunpcklpd(29, 2, 3); }),
            c("vunpckhpd %zmm18, %zmm16, %zmm1", "62b1fd4015ca", a -> { a.vunpckhpd(1, 16, 18); }),
            c("vunpckhpd %zmm27, %zmm25, %zmm7", "6291b54015fb", a -> { a.vunpckhpd(7, 25, 27); }),
            c("vshuff32x4 $0x88, %zmm4, %zmm0, %zmm16", "62e37d4823c488", a -> { a.vshuff32x4(16, 0, 4, 0x88); }),
            c("vshuff32x4 $0xdd, %zmm28, %zmm19, %zmm9", "6213654023ccdd", a -> { a.vshuff32x4(9, 19, 28, 0xdd); }),
            c("vpermt2ps %zmm1, %zmm26, %zmm8", "62722d407fc1", a -> { a.vpermt2ps(8, 26, 1); }),
            c("vpermt2ps %zmm23, %zmm31, %zmm0", "62b205407fc7", a -> { a.vpermt2ps(0, 31, 23); }),
            c("vpermt2ps %zmm9, %zmm2, %zmm17", "62c26d487fc9", a -> { a.vpermt2ps(17, 2, 9); }),
            c("vmovaps %zmm0, %zmm8", "62717c4828c0", a -> { a.vmovaps(8, 0); }),
            c("vmovaps %zmm21, %zmm3", "62b17c4828dd", a -> { a.vmovaps(3, 21); }),
            c("vmovaps %zmm7, %zmm30", "62617c4828f7", a -> { a.vmovaps(30, 7); }),
            c("vmovups (%r14), %zmm0", "62d17c481006", a -> { a.vmovupsLoad(0, mem(R14, 0)); }),
            c("vmovups 128(%r15), %zmm6", "62d17c48107702", a -> { a.vmovupsLoad(6, mem(R15, 128)); }),
            c("vmovups %zmm3, 192(%r14)", "62d17c48115e03", a -> { a.vmovupsStore(mem(R14, 192), 3); }),
            c("vmovups %zmm20, -64(%rdi)", "62e17c481167ff", a -> { a.vmovupsStore(mem(RDI, -64), 20); }),
            c("vzeroupper", "c5f877", a -> { a.vzeroupper(); }),
            c("mov %rsi, %rax", "4889f0", a -> { a.mov(RAX, RSI); }),
            c("mov %r8, %rbx", "4c89c3", a -> { a.mov(RBX, R8); }),
            c("mov %rdi, %r11", "4989fb", a -> { a.mov(R11, RDI); }),
            c("mov %r14, %r15", "4d89f7", a -> { a.mov(R15, R14); }),
            c("mov 8(%rsp), %rax", "488b442408", a -> { a.movLoad(RAX, mem(RSP, 8)); }),
            c("mov (%r12), %r15", "4d8b3c24", a -> { a.movLoad(R15, mem(R12, 0)); }),
            c("mov 16(%rbp), %r10", "4c8b5510", a -> { a.movLoad(R10, mem(RBP, 16)); }),
            c("mov 4096(%rsi,%rcx,8), %r9", "4c8b8cce00100000", a -> { a.movLoad(R9, mem(RSI, RCX, 8, 4096)); }),
            c("mov (%rsi), %eax", "8b06", a -> { a.movLoad32(RAX, mem(RSI, 0)); }),
            c("mov 12(%rsi), %r11d", "448b5e0c", a -> { a.movLoad32(R11, mem(RSI, 12)); }),
            c("mov 4(%rdx,%r10,4), %r9d", "468b4c9204", a -> { a.movLoad32(R9, mem(RDX, R10, 4, 4)); }),
            c("mov (%r13), %ecx", "418b4d00", a -> { a.movLoad32(RCX, mem(R13, 0)); }),
            c("mov (%r10), %r11d", "458b1a", a -> { a.movLoad32(R11, mem(R10, 0)); }),
            c("mov $1, %eax", "b801000000", a -> { a.movImm32(RAX, 1); }),
            c("mov $65536, %r13d", "41bd00000100", a -> { a.movImm32(R13, 65536); }),
            c("mov %rax, 8(%rsp)", "4889442408", a -> { a.movStore(mem(RSP, 8), RAX); }),
            c("mov %r15, (%r12)", "4d893c24", a -> { a.movStore(mem(R12, 0), R15); }),
            c("add 72(%rsp), %rsi", "4803742448", a -> { a.addLoad(RSI, mem(RSP, 72)); }),
            c("add (%r13), %r8", "4d034500", a -> { a.addLoad(R8, mem(R13, 0)); }),
            c("imul %rbp, %rax", "480fafc5", a -> { a.imul(RAX, RBP); }),
            c("imul %rbx, %r9", "4c0fafcb", a -> { a.imul(R9, RBX); }),
            c("imul %r15, %r14", "4d0faff7", a -> { a.imul(R14, R15); }),
            c("add %rdx, %rsi", "4801d6", a -> { a.add(RSI, RDX); }),
            c("add %r9, %r10", "4d01ca", a -> { a.add(R10, R9); }),
            c("add %rax, %r13", "4901c5", a -> { a.add(R13, RAX); }),
            c("sub %rdx, %rsi", "4829d6", a -> { a.sub(RSI, RDX); }),
            c("sub %r11, %rcx", "4c29d9", a -> { a.sub(RCX, R11); }),
            c("cmp %r8, %rax", "4c39c0", a -> { a.cmp(RAX, R8); }),
            c("add $4, %rax", "4883c004", a -> { a.addImm(RAX, 4); }),
            c("add $256, %r11", "4981c300010000", a -> { a.addImm(R11, 256); }),
            c("add $128, %rax", "480580000000", a -> { a.addImm(RAX, 128); }),
            c("add $-128, %rcx", "4883c180", a -> { a.addImm(RCX, -128); }),
            c("add $127, %r9", "4983c17f", a -> { a.addImm(R9, 127); }),
            c("sub $8, %rsp", "4883ec08", a -> { a.subImm(RSP, 8); }),
            c("sub $1000, %r12", "4981ece8030000", a -> { a.subImm(R12, 1000); }),
            c("cmp $0, %r9", "4983f900", a -> { a.cmpImm(R9, 0); }),
            c("cmp $65536, %rdx", "4881fa00000100", a -> { a.cmpImm(RDX, 65536); }),
            c("dec %rbx", "48ffcb", a -> { a.dec(RBX); }),
            c("dec %r9", "49ffc9", a -> { a.dec(R9); }),
            c("lea (%rsi,%rdx,2), %r10", "4c8d1456", a -> { a.lea(R10, mem(RSI, RDX, 2, 0)); }),
            c("lea (%rdx,%rdx,2), %r10", "4c8d1452", a -> { a.lea(R10, mem(RDX, RDX, 2, 0)); }),
            c("lea 64(%r13), %rax", "498d4540", a -> { a.lea(RAX, mem(R13, 64)); }),
            c("lea (%rdx,%r9,4), %r14", "4e8d348a", a -> { a.lea(R14, mem(RDX, R9, 4, 0)); }),
            c("lea (%r13), %rax", "498d4500", a -> { a.lea(RAX, mem(R13, 0)); }),
            c("lea -4(%rsp), %rbp", "488d6c24fc", a -> { a.lea(RBP, mem(RSP, -4)); }),
            c("lea 1024(%rax,%r8,4), %rcx", "4a8d8c8000040000", a -> { a.lea(RCX, mem(RAX, R8, 4, 1024)); }),
            c("prefetcht0 256(%rax)", "0f188800010000", a -> { a.prefetcht0(mem(RAX, 256)); }),
            c("prefetcht0 (%r10,%rdx,2)", "410f180c52", a -> { a.prefetcht0(mem(R10, RDX, 2, 0)); }),
            c("prefetcht0 64(%rsi,%r9,1)", "420f184c0e40", a -> { a.prefetcht0(mem(RSI, R9, 1, 64)); }),
            c("push %rbx", "53", a -> { a.push(RBX); }),
            c("pop %rbx", "5b", a -> { a.pop(RBX); }),
            c("push %r12", "4154", a -> { a.push(R12); }),
            c("pop %r15", "415f", a -> { a.pop(R15); }),
            c("ret", "c3", a -> { a.ret(); }),
            c("1: dec %rbx | jnz 1b", "48ffcb75fb", a -> { Label l = new Label(); a.bind(l); a.dec(RBX); a.jnz(l); }),
            c("1: jz 1b", "74fe", a -> { Label l = new Label(); a.bind(l); a.jz(l); }),
            c("1: jl 1b", "7cfe", a -> { Label l = new Label(); a.bind(l); a.jl(l); }),
            c("1: jge 1b", "7dfe", a -> { Label l = new Label(); a.bind(l); a.jge(l); }),
            c("jz 1f | .rept 30 | vpxord %zmm1, %zmm2, %zmm3 | .endr | 1: ret", "0f84b400000062f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd9c3", a -> { Label l = new Label(); a.jz(l); for (int i = 0; i < 30; i++) { a.vpxord(3, 2, 1); } a.bind(l); a.ret(); }),
            c("jge 1f | .rept 30 | vpxord %zmm1, %zmm2, %zmm3 | .endr | 1: ret", "0f8db400000062f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd9c3", a -> { Label l = new Label(); a.jge(l); for (int i = 0; i < 30; i++) { a.vpxord(3, 2, 1); } a.bind(l); a.ret(); }),
            c("1: vpxord %zmm0, %zmm0, %zmm0 | vpdpbusd %zmm31, %zmm24, %zmm23 | add $4, %rax | dec %r11 | jnz 1b", "62f17d48efc062823d4050ff4883c00449ffcb75eb", a -> { Label l = new Label(); a.bind(l); a.vpxord(0, 0, 0); a.vpdpbusd(23, 24, 31); a.addImm(RAX, 4); a.dec(R11); a.jnz(l); }),
            c("1: .rept 30 | vpxord %zmm1, %zmm2, %zmm3 | .endr | dec %r9 | jnz 1b", "62f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd949ffc90f8543ffffff", a -> { Label l = new Label(); a.bind(l); for (int i = 0; i < 30; i++) { a.vpxord(3, 2, 1); } a.dec(R9); a.jnz(l); }),
            c("jnz 1f | .rept 30 | vpxord %zmm1, %zmm2, %zmm3 | .endr | 1: ret", "0f85b400000062f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd9c3", a -> { Label l = new Label(); a.jnz(l); for (int i = 0; i < 30; i++) { a.vpxord(3, 2, 1); } a.bind(l); a.ret(); }),
            c("1: jmp 2f | .rept 30 | vpxord %zmm1, %zmm2, %zmm3 | .endr | 2: jmp 1b", "e9b400000062f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd962f16d48efd9e942ffffff", a -> { Label l = new Label(); Label m = new Label(); a.bind(l); a.jmp(m); for (int i = 0; i < 30; i++) { a.vpxord(3, 2, 1); } a.bind(m); a.jmp(l); })
    );

    private static String encode(Case t) {
        X86Asm a = new X86Asm();
        t.emit().accept(a);
        return HexFormat.of().formatHex(a.bytes());
    }

    @Test
    void goldenBytesFromGnuAs() {
        StringBuilder wrong = new StringBuilder();
        for (Case t : CASES) {
            String got = encode(t);
            if (!got.equals(t.hex())) {
                wrong.append(t.att()).append(": as ").append(t.hex()).append(", X86Asm ").append(got).append('\n');
            }
        }
        assertEquals("", wrong.toString(), "encodings that differ from GNU as");
    }

    @Test
    void gnuAsAgrees() throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("as") && onPath("objcopy"),
                "GNU as and objcopy are not on PATH: only the stored golden bytes were checked");
        Path dir = Files.createTempDirectory("kiln-x86");
        try {
            for (Case t : CASES) {
                Path s = dir.resolve("case.s");
                Path o = dir.resolve("case.o");
                Path bin = dir.resolve("case.bin");
                Files.writeString(s, t.att().replace(" | ", "\n") + "\n");
                run(dir, "as", "--64", "-o", o.toString(), s.toString());
                run(dir, "objcopy", "-O", "binary", "--only-section=.text", o.toString(), bin.toString());
                assertEquals(HexFormat.of().formatHex(Files.readAllBytes(bin)), encode(t), "as vs X86Asm: " + t.att());
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Test
    void badOperandsAreRefused() {
        X86Asm a = new X86Asm();
        assertThrows(IllegalArgumentException.class, () -> a.vpdpbusd(32, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> mem(RAX, RSP, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> mem(RAX, RDX, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> a.mov(16, RAX));
        assertEquals(0, a.size());
    }

    /** Whether an executable named {@code tool} is on PATH. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
