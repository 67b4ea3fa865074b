/**
 * x86-64 machine code made at run time: a minimal encoder ({@code X86Asm}, checked byte for byte
 * against GNU {@code as}), the installer that maps the bytes executable and hands back an FFM
 * downcall handle ({@code JitCode}), and the generators of the kernels that the Vector API cannot
 * express well: the int8 GEMM on {@code vpdpbusd} ({@code VnniGemmCode}) and the column-blocked
 * CSR product ({@code SparseCsrCode}). Their callers in {@code dev.kiln.kernels.cpu} check every
 * argument in Java before a call and keep a Vector API path with the same results.
 *
 * <pre>{@code
 * X86Asm a = new X86Asm();
 * a.mov(X86Asm.RAX, X86Asm.RDI);
 * a.add(X86Asm.RAX, X86Asm.RSI);
 * a.ret();
 * MethodHandle add = JitCode.function(a.bytes(), FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
 * }</pre>
 */
package dev.kiln.kernels.cpu.x86;
