/**
 * Scalar reference kernels over {@code double[]}: the same signatures as {@code dev.kiln.kernels.cpu},
 * written as plainly as possible and accumulating in double. The tests check every fast kernel
 * against its reference; the engine runs F64 tensors (gradient checks) through them.
 *
 * <pre>{@code
 * RefGemm.dgemm(false, c, 0, n, false, a, 0, k, false, b, 0, n, m, n, k);
 * }</pre>
 */
package dev.kiln.kernels.ref;
