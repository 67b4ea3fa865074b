/**
 * Kiln's tensor engine: {@link dev.kiln.engine.Tensor} (shape, strides, dtype, device over a
 * storage), the op set with NumPy broadcasting and views, and define-by-run autograd.
 *
 * <p>Ops are written once against the {@link dev.kiln.engine.Backend} interface (the CPU one runs
 * the Vector API kernels of {@code dev.kiln.kernels}); each op records its gradient function when
 * it creates its result, so no op exists without a gradient. {@link dev.kiln.engine.GradCheck}
 * checks every gradient against central differences in F64.
 *
 * <pre>{@code
 * Generator gen = new Generator(0);
 * Tensor x = Tensors.randn(gen, 4, 3);
 * Tensor w = Tensors.randn(gen, 3, 2).requiresGrad(true);
 * Tensor loss = Functional.logSoftmax(x.matmul(w), 1).mean().neg();
 * loss.backward();
 * System.out.println(w.grad());
 * }</pre>
 */
package dev.kiln.engine;
