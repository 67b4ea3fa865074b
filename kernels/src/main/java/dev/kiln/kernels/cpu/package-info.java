/**
 * fp32 CPU kernels on the Vector API ({@code jdk.incubator.vector}): elementwise, reductions,
 * softmax, GEMM (packed panels, cache blocking, register-blocked micro-kernel), convolution
 * (im2col + GEMM) and pooling, int8 GEMM with dequantize/requantize epilogues ({@code QGemm}),
 * sparse CSR and block-sparse products ({@code Sparse}). Transcendentals ({@code VMath},
 * {@code VMathD}) are built from exactly rounded lane operations, so every kernel returns the same
 * bits in the interpreter and once compiled. Each kernel is a static method, outputs first, then inputs, then
 * dims; each has a double-precision twin in {@code dev.kiln.kernels.ref} that the tests compare
 * against.
 *
 * <pre>{@code
 * Gemm.sgemm(false, c, 0, n, false, a, 0, k, false, b, 0, n, m, n, k);   // c = a * b
 * }</pre>
 */
package dev.kiln.kernels.cpu;
