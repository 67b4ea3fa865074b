/**
 * Kiln's compute routines over raw buffers and dimensions; they know nothing of tensors.
 *
 * <p>{@code dev.kiln.kernels.cpu} holds the fp32 CPU kernels written with the Vector API;
 * {@code dev.kiln.kernels.ref} holds a scalar reference for each of them over {@code double[]},
 * used by the tests and as the F64 path of the engine (gradient checks). This package holds what
 * both share: the op enums, the vector species ({@link dev.kiln.kernels.Simd}) and the intra-op
 * thread pool ({@link dev.kiln.kernels.Parallel}).
 *
 * <pre>{@code
 * Elementwise.binary(BinaryOp.ADD, out, 0, a, 0, 1, b, 0, 1, n);   // out = a + b
 * }</pre>
 */
package dev.kiln.kernels;
