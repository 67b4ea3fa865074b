package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertValues;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The CPU backend's fused batch norm against the form composed from recorded ops, values and gradients. */
class FusedBatchNormTest {
    private record Run(Tensor y, Tensor gx, Tensor gw, Tensor gb, Tensor runMean, Tensor runVar) {
    }

    private static Run run(boolean fused, Tensor x0, Tensor w0, Tensor b0, Tensor rm0, Tensor rv0, boolean training,
                           Tensor gy) {
        Tensor x = Tensors.zerosLike(x0).add(x0).detach().requiresGrad(true);
        Tensor w = w0 == null ? null : Tensors.zerosLike(w0).add(w0).detach().requiresGrad(true);
        Tensor b = b0 == null ? null : Tensors.zerosLike(b0).add(b0).detach().requiresGrad(true);
        Tensor rm = rm0 == null ? null : Tensors.zerosLike(rm0).add(rm0);
        Tensor rv = rv0 == null ? null : Tensors.zerosLike(rv0).add(rv0);
        Tensor y = fused ? NormOps.batchNorm(x, rm, rv, w, b, training, 0.1, 1e-5)
                : NormOps.composedBatchNorm(x, rm, rv, w, b, training, 0.1, 1e-5);
        y.backward(gy);
        return new Run(y, x.grad(), w == null ? null : w.grad(), b == null ? null : b.grad(), rm, rv);
    }

    private static void same(String what, Tensor got, Tensor want, double tol) {
        if (want == null) {
            assertNull(got, what);
            return;
        }
        assertNotNull(got, what);
        assertValues(what, got, want.shape(), want.toDoubleArray(), tol);
    }

    @Test
    void fusedMatchesComposedForwardBackwardAndRunningStats() {
        Generator g = new Generator(31);
        // fused from CpuNorm.MIN_SPATIAL values per row and for [N, C] (across channels: a vector of them
        // and a tail); short rows stay composed
        int[][] shapes = {{8, 3, 5, 5}, {6, 4, 9}, {4, 2, 8}, {2, 5, 14, 14}, {6, 4}, {16, 2, 1, 1}, {5, 37}, {3, 2, 3},
            {2, 16, 1}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            double tol = dt == DType.F32 ? 2e-4 : 1e-10;
            for (int[] shape : shapes) {
                int c = shape[1];
                Tensor x = Tensors.normal(g, dt, 2, 3, shape);
                Tensor gy = Tensors.normal(g, dt, 0, 1, shape);
                for (boolean affine : new boolean[] {false, true}) {
                    Tensor w = affine ? Tensors.uniform(g, dt, 0.5, 2, c) : null;
                    Tensor b = affine ? Tensors.uniform(g, dt, -1, 1, c) : null;
                    Tensor rm = Tensors.uniform(g, dt, -1, 1, c);
                    Tensor rv = Tensors.uniform(g, dt, 0.5, 2, c);
                    for (boolean training : new boolean[] {true, false}) {
                        String what = dt + " " + Shape.str(shape) + (affine ? " affine" : "") + (training ? " training" : " eval");
                        Run f = run(true, x, w, b, rm, rv, training, gy);
                        int spatial = x.numel() / shape[0] / c;
                        assertEquals(CpuNorm.fused(spatial), f.y().gradFn().op().equals("batchNorm"), what + " fused");
                        Run r = run(false, x, w, b, rm, rv, training, gy);
                        same(what + " y", f.y(), r.y(), tol);
                        same(what + " grad x", f.gx(), r.gx(), tol);
                        same(what + " grad weight", f.gw(), r.gw(), tol * 10);
                        same(what + " grad bias", f.gb(), r.gb(), tol * 10);
                        same(what + " running mean", f.runMean(), r.runMean(), tol);
                        same(what + " running var", f.runVar(), r.runVar(), tol);
                    }
                }
            }
        }
    }

    /**
     * {@code batchNormRelu}: one op (the fused kernel) for F32 where the batch norm is fused, else
     * batch norm then ReLU; either way the bits of {@code batchNorm(...).relu()}, output and gradients.
     */
    @Test
    void batchNormReluGivesTheBitsOfBatchNormThenRelu() {
        Generator g = new Generator(33);
        int[][] shapes = {{8, 3, 5, 5}, {2, 5, 14, 14}, {6, 4}, {5, 37}, {3, 2, 3}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (int[] shape : shapes) {
                int c = shape[1];
                Tensor x0 = Tensors.normal(g, dt, 0, 1, shape);
                Tensor gy = Tensors.normal(g, dt, 0, 1, shape);
                Tensor w0 = Tensors.uniform(g, dt, -2, 2, c);
                Tensor b0 = Tensors.uniform(g, dt, -1, 1, c);
                for (boolean training : new boolean[] {true, false}) {
                    String what = dt + " " + Shape.str(shape) + (training ? " training" : " eval");
                    Tensor[] fused = new Tensor[4];
                    Tensor[] plain = new Tensor[4];
                    for (boolean f : new boolean[] {true, false}) {
                        Tensor x = x0.detach().requiresGrad(true);
                        Tensor w = Tensors.zerosLike(w0).add(w0).detach().requiresGrad(true);
                        Tensor b = Tensors.zerosLike(b0).add(b0).detach().requiresGrad(true);
                        Tensor rm = Tensors.zeros(dt, c);
                        Tensor rv = Tensors.ones(dt, c);
                        Tensor y = f ? NormOps.batchNormRelu(x, rm, rv, w, b, training, 0.1, 1e-5)
                                : NormOps.batchNorm(x, rm, rv, w, b, training, 0.1, 1e-5).relu();
                        if (f) {
                            int spatial = x.numel() / shape[0] / c;
                            boolean one = dt == DType.F32 && CpuNorm.fused(spatial);
                            assertEquals(one, y.gradFn().op().equals("batchNormRelu"), what + " one op");
                        }
                        y.backward(gy);
                        Tensor[] r = f ? fused : plain;
                        r[0] = y;
                        r[1] = x.grad();
                        r[2] = w.grad();
                        r[3] = b.grad();
                    }
                    String[] names = {" y", " grad x", " grad weight", " grad bias"};
                    for (int i = 0; i < 4; i++) {
                        org.junit.jupiter.api.Assertions.assertArrayEquals(plain[i].toDoubleArray(), fused[i].toDoubleArray(),
                                what + names[i]);
                    }
                }
            }
        }
    }

    @Test
    void evalBackwardSeesTheStatisticsOfItsForwardPass() {
        Generator g = new Generator(32);
        Tensor x = Tensors.normal(g, DType.F32, 0, 1, 4, 3, 6).requiresGrad(true);
        Tensor rm = Tensors.uniform(g, DType.F32, -1, 1, 3);
        Tensor rv = Tensors.uniform(g, DType.F32, 0.5, 2, 3);
        Tensor gy = Tensors.normal(g, DType.F32, 0, 1, 4, 3, 6);
        Tensor want = run(false, x, null, null, rm, rv, false, gy).gx();
        Tensor y = NormOps.batchNorm(x, rm, rv, null, null, false, 0.1, 1e-5);
        // a training step on other data moves the running stats before this backward pass
        NormOps.batchNorm(Tensors.normal(g, DType.F32, 5, 1, 4, 3, 6), rm, rv, null, null, true, 0.5, 1e-5);
        y.backward(gy);
        same("eval grad x", x.grad(), want, 1e-5);
    }
}
