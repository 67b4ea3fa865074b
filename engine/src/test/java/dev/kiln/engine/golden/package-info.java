/**
 * Golden tests: values and gradients computed once by PyTorch (Debian's python3-torch) with the
 * scripts in {@code tools/}, committed as small safetensors fixtures under
 * {@code src/test/resources/golden/} and read here with nothing but the JDK.
 *
 * <pre>{@code
 * var golden = SafetensorsFixture.loadResource("golden/engine_chain.safetensors");
 * double[] gradW1 = golden.f64("grad.w1");   // shape golden.shape("grad.w1") = [4, 3, 3, 3]
 * }</pre>
 */
package dev.kiln.engine.golden;
