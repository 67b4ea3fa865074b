package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertSameBits;
import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

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

    /**
     * A second backward adds into the gradients the leaves already hold: for x and w straight from the GEMM
     * (CpuNn.matmulAccumulate), bit for bit what the composition's backward gives when it adds a fresh
     * gradient to the held one (k <= 1024: one GEMM block), on shapes of the direct and the packed paths.
     */
    @Test
    void secondBackwardAddsIntoHeldGradientsWithTheCompositionsBits() {
        int[][] shapes = {{64, 784, 300}, {1, 784, 300}, {37, 33, 45}, {3, 10, 17}};
        for (int[] s : shapes) {
            for (boolean relu : new boolean[] {false, true}) {
                Generator g = new Generator(s[0] * 7 + s[1]);
                Tensor x = Tensors.randn(g, s[0], s[1]).requiresGrad(true);
                Tensor w = Tensors.randn(g, s[2], s[1]).requiresGrad(true);
                Tensor b = Tensors.randn(g, s[2]).requiresGrad(true);
                Tensor gy1 = Tensors.randn(g, s[0], s[2]);
                Tensor gy2 = Tensors.randn(g, s[0], s[2]);
                String what = (relu ? "linearRelu " : "linear ") + s[0] + "x" + s[1] + "->" + s[2] + " accumulated";

                (relu ? Functional.linearRelu(x, w, b) : Functional.linear(x, w, b)).backward(gy1);
                Tensor heldW = w.grad();
                (relu ? Functional.linearRelu(x, w, b) : Functional.linear(x, w, b)).backward(gy2);
                Tensor[] fused = {x.grad().copy(), w.grad().copy(), b.grad().copy()};
                assertSame(heldW, w.grad(), what + ": the held gradient tensor is kept and added into");

                x.setGrad(null);
                w.setGrad(null);
                b.setGrad(null);
                for (Tensor gy : new Tensor[] {gy1, gy2}) {
                    Tensor z = x.matmul(w.t()).add(b);
                    (relu ? z.relu() : z).backward(gy);
                }
                assertSameBits(what + " grad x", x.grad(), fused[0]);
                assertSameBits(what + " grad w", w.grad(), fused[1]);
                assertSameBits(what + " grad b", b.grad(), fused[2]);
            }
        }
    }

    /** The CPU backend's fused c += op(a) op(b): values, and where it declines (leaving c untouched). */
    @Test
    void matmulAccumulateAddsInPlaceOrDeclines() {
        Generator g = new Generator(4);
        Tensor a = Tensors.randn(g, 6, 5);
        Tensor b = Tensors.randn(g, 7, 5);
        Tensor c = Tensors.randn(g, 6, 7);
        Tensor expected = c.add(a.matmul(b.t()));
        assertEquals(true, CpuBackend.INSTANCE.matmulAccumulate(c, a, false, b, true));
        float[] e = expected.toFloatArray();
        float[] got = c.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], got[i], 1e-5f * Math.max(1, Math.abs(e[i])), "c[" + i + "]");
        }
        Tensor c64 = Tensors.zeros(DType.F64, 6, 7);
        assertEquals(false, CpuBackend.INSTANCE.matmulAccumulate(c64, a.to(DType.F64), false, b.to(DType.F64), true), "F64");
        Tensor sq = Tensors.randn(g, 5, 5);
        Tensor before = sq.copy();
        assertEquals(false, CpuBackend.INSTANCE.matmulAccumulate(sq, sq, false, Tensors.randn(g, 5, 5), false), "c aliases a");
        assertSameBits("declined c is untouched", before, sq);
        assertThrowsWith(IllegalArgumentException.class,
                () -> CpuBackend.INSTANCE.matmulAccumulate(Tensors.zeros(7, 6), a, false, b, true), "expected c [6, 7]", "got c [7, 6]");
    }

    /** A held gradient that cannot be written by the GEMM (a transposed view) gets the contribution through the unfused add. */
    @Test
    void heldGradientThatIsAViewIsNotWrittenInPlace() {
        Generator g = new Generator(9);
        Tensor x = Tensors.randn(g, 8, 5).requiresGrad(true);
        Tensor w = Tensors.randn(g, 3, 5).requiresGrad(true);
        Tensor held = Tensors.randn(g, 5, 3);
        w.setGrad(held.t());
        Tensor before = held.copy();
        Tensor gy = Tensors.randn(g, 8, 3);
        Functional.linear(x, w, Tensors.zeros(3)).backward(gy);
        Tensor expected = before.t().add(gy.t().matmul(x));
        float[] e = expected.contiguous().toFloatArray();
        float[] a = w.grad().contiguous().toFloatArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], 1e-5f * Math.max(1, Math.abs(e[i])), "w.grad[" + i + "]");
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
