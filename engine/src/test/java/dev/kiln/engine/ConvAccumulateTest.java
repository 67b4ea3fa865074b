package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.kiln.kernels.ConvGeom;
import org.junit.jupiter.api.Test;

/**
 * A second conv2d backward adds the input gradient straight into the input's held {@code .grad}
 * ({@link Backend#conv2dBackwardInputAccumulate}), bit for bit the held gradient plus a fresh one, on
 * geometries of the fused path (ConvDirect) and of one that computes apart and adds (stride 2).
 */
class ConvAccumulateTest {
    @Test
    void secondBackwardAddsIntoTheHeldInputGradient() {
        int[][] cases = {{2, 32, 8, 32, 1, 1}, {2, 64, 8, 64, 1, 2}, {2, 3, 9, 8, 2, 1}};
        for (int[] cs : cases) {
            int n = cs[0], c = cs[1], hw = cs[2], oc = cs[3], stride = cs[4], groups = cs[5];
            String what = "conv2d " + c + "->" + oc + " " + hw + "x" + hw + " stride " + stride + " groups " + groups;
            Generator g = new Generator(c * 13 + oc);
            Tensor x = Tensors.randn(g, n, c, hw, hw).requiresGrad(true);
            Tensor w = Tensors.randn(g, oc, c / groups, 3, 3).requiresGrad(true);
            Tensor b = Tensors.randn(g, oc).requiresGrad(true);
            int[] s = {stride};
            int[] p = {1};
            int[] d = {1};
            Tensor y1 = Functional.conv2d(x, w, b, s, p, d, groups);
            Tensor gy1 = Tensors.randn(g, y1.shape());
            Tensor gy2 = Tensors.randn(g, y1.shape());
            y1.backward(gy1);
            Tensor held = x.grad();
            Tensor first = held.copy();
            Functional.conv2d(x, w, b, s, p, d, groups).backward(gy2);
            assertSame(held, x.grad(), what + ": the held gradient tensor is kept and added into");

            x.setGrad(null);
            Functional.conv2d(x, w, b, s, p, d, groups).backward(gy2);
            assertSameBits(what + " grad x", first.add(x.grad()), held);
        }
    }

    /** The CPU backend declines an F64 gradient and one that shares its array with gy, leaving it untouched. */
    @Test
    void accumulateDeclinesWhatItCannotTake() {
        Generator g = new Generator(5);
        ConvGeom geom = new ConvGeom(1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        Tensor w = Tensors.randn(g, 8, 8, 3, 3);
        Tensor gy = Tensors.randn(g, 1, 8, 8, 8);
        Tensor gx64 = Tensors.zeros(DType.F64, 1, 8, 8, 8);
        assertEquals(false, CpuBackend.INSTANCE.conv2dBackwardInputAccumulate(gx64, gy.to(DType.F64), w.to(DType.F64), geom), "F64");
        Tensor before = gy.copy();
        assertEquals(false, CpuBackend.INSTANCE.conv2dBackwardInputAccumulate(gy, gy, w, geom), "gx aliases gy");
        assertSameBits("declined gx is untouched", before, gy);
    }
}
