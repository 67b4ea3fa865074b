package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * {@link Functional#linear} and {@link Functional#linearRelu}: gradients by central differences
 * (F64), and in F32 the exact bits of the composition they replace
 * ({@code x.matmul(w.t()).add(b)}, then {@code relu()}), forward and every gradient, on shapes that
 * take the direct and the packed GEMM paths.
 */
class LinearOpTest {

    private static Tensor f64(Generator g, int... shape) {
        return Tensors.uniform(g, DType.F64, -1, 1, shape).requiresGrad(true);
    }

    @Test
    void gradientsByCentralDifferences() {
        Generator g = new Generator(11);
        Tensor x = f64(g, 5, 7);
        Tensor w = f64(g, 4, 7);
        Tensor b = f64(g, 4);
        Tensor r = Tensors.uniform(g, DType.F64, -1, 1, 5, 4);
        GradCheck.check("linear", in -> Functional.linear(in[0], in[1], in[2]).mul(r).sum(), x, w, b);
        GradCheck.check("linearRelu", in -> Functional.linearRelu(in[0], in[1], in[2]).mul(r).sum(), x, w, b);
        GradCheck.check("linear without bias", in -> Functional.linear(in[0], in[1], null).mul(r).sum(), x, w);
        Tensor x3 = f64(g, 2, 3, 7);
        Tensor r3 = Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 4);
        GradCheck.check("linearRelu [2,3,7]", in -> Functional.linearRelu(in[0], in[1], in[2]).mul(r3).sum(), x3, w, b);
    }

    private static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.contiguous().toFloatArray();
        float[] a = actual.contiguous().toFloatArray();
        for (int i = 0; i < e.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                    () -> what + ": index " + at + " got " + a[at] + ", expected " + e[at]);
        }
    }

    private static void compareWithComposition(int batch, int in, int out, boolean relu) {
        Generator g = new Generator(batch * 31 + in);
        Tensor x = Tensors.randn(g, batch, in).requiresGrad(true);
        Tensor w = Tensors.randn(g, out, in).requiresGrad(true);
        Tensor b = Tensors.randn(g, out).requiresGrad(true);
        Tensor gy = Tensors.randn(g, batch, out);
        String what = (relu ? "linearRelu " : "linear ") + batch + "x" + in + "->" + out;

        Tensor y = relu ? Functional.linearRelu(x, w, b) : Functional.linear(x, w, b);
        y.backward(gy);
        Tensor[] fused = {y.detach(), x.grad(), w.grad(), b.grad()};
        x.setGrad(null);
        w.setGrad(null);
        b.setGrad(null);
        Tensor z = x.matmul(w.t()).add(b);
        Tensor yc = relu ? z.relu() : z;
        yc.backward(gy);
        assertSameBits(what + " output", yc, fused[0]);
        assertSameBits(what + " grad x", x.grad(), fused[1]);
        assertSameBits(what + " grad w", w.grad(), fused[2]);
        assertSameBits(what + " grad b", b.grad(), fused[3]);
    }

    @Test
    void f32BitsEqualTheComposition() {
        int[][] shapes = {{1, 784, 300}, {3, 10, 17}, {64, 784, 300}, {64, 300, 100}, {64, 100, 10}, {37, 33, 45}};
        for (int[] s : shapes) {
            compareWithComposition(s[0], s[1], s[2], false);
            compareWithComposition(s[0], s[1], s[2], true);
        }
    }

    @Test
    void inputsWithoutGradientGetNone() {
        Generator g = new Generator(5);
        Tensor x = Tensors.randn(g, 4, 6);
        Tensor w = Tensors.randn(g, 3, 6).requiresGrad(true);
        Tensor b = Tensors.randn(g, 3);
        Functional.linearRelu(x, w, b).sum().backward();
        assertNull(x.grad());
        assertNull(b.grad());
        assertArrayEquals(new int[] {3, 6}, w.grad().shape());
    }

    @Test
    void badShapesAreNamed() {
        Generator g = new Generator(1);
        Tensor x = Tensors.randn(g, 4, 6);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.linear(x, Tensors.randn(g, 3, 5), null),
                "linear: expected x [..., in] and weight [out, in], got [4, 6] and [3, 5]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.linearRelu(x, Tensors.randn(g, 3, 6), Tensors.randn(g, 4)),
                "linearRelu: expected a bias [3], got [4]");
    }
}
