package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertSameBits;

import org.junit.jupiter.api.Test;

/**
 * {@link Functional#conv2dRelu}: gradients by central differences (F64), and in F32 the exact bits
 * of {@code conv2d(...).relu()} it replaces, output and every gradient, on LeNet-5's layers, a
 * strided grouped one and an unbatched [C, H, W] input.
 */
class ConvReluTest {
    @Test
    void gradientsByCentralDifferences() {
        Generator g = new Generator(12);
        Tensor x = Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 6, 6).requiresGrad(true);
        Tensor w = Tensors.uniform(g, DType.F64, -1, 1, 4, 3, 3, 3).requiresGrad(true);
        Tensor b = Tensors.uniform(g, DType.F64, -1, 1, 4).requiresGrad(true);
        Tensor r = Tensors.uniform(g, DType.F64, -1, 1, 2, 4, 6, 6);
        int[] one = {1};
        GradCheck.check("conv2dRelu", in -> Functional.conv2dRelu(in[0], in[1], in[2], one, one, one, 1).mul(r).sum(), x, w, b);
    }

    @Test
    void f32BitsEqualTheComposition() {
        // n, c, h, oc, k, stride, pad, groups, batched
        int[][] cases = {{64, 1, 28, 6, 5, 1, 2, 1, 1}, {64, 6, 14, 16, 5, 1, 0, 1, 1}, {3, 4, 9, 8, 3, 2, 1, 2, 1},
            {1, 3, 7, 5, 3, 1, 1, 1, 0}};
        for (int[] cs : cases) {
            Generator g = new Generator(cs[1] * 17 + cs[3]);
            int[] shape = cs[8] == 1 ? new int[] {cs[0], cs[1], cs[2], cs[2]} : new int[] {cs[1], cs[2], cs[2]};
            Tensor x = Tensors.randn(g, shape).requiresGrad(true);
            Tensor w = Tensors.randn(g, cs[3], cs[1] / cs[7], cs[4], cs[4]).requiresGrad(true);
            Tensor b = Tensors.randn(g, cs[3]).requiresGrad(true);
            int[] s = {cs[5]};
            int[] p = {cs[6]};
            int[] d = {1};
            String what = "conv2dRelu " + java.util.Arrays.toString(cs);
            Tensor y = Functional.conv2dRelu(x, w, b, s, p, d, cs[7]);
            Tensor gy = Tensors.randn(g, y.shape());
            y.backward(gy);
            Tensor[] fused = {y.detach(), x.grad(), w.grad(), b.grad()};
            x.setGrad(null);
            w.setGrad(null);
            b.setGrad(null);
            Tensor yc = Functional.conv2d(x, w, b, s, p, d, cs[7]).relu();
            yc.backward(gy);
            assertSameBits(what + " output", yc, fused[0]);
            assertSameBits(what + " grad x", x.grad(), fused[1]);
            assertSameBits(what + " grad w", w.grad(), fused[2]);
            assertSameBits(what + " grad b", b.grad(), fused[3]);
        }
    }
}
