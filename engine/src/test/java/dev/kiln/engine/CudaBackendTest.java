package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.cuda.CudaDevice;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every op of the CUDA backend against the CPU backend on the same inputs, forward and (through
 * autograd) backward, with tail sizes; skipped (reported as skipped) without a usable GPU.
 */
class CudaBackendTest {
    private static final int[] SIZES = {1, 7, 8, 9, 31, 33, 255, 257, 1023, 4099};
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    private static Device gpu() {
        String reason = CudaDevice.unavailableReason(0);
        assumeTrue(reason == null, reason);
        return Device.cuda(0);
    }

    private static Tensor rand(long seed, int... shape) {
        return Tensors.randn(new Generator(seed), shape);
    }

    private static void close(String what, Tensor cpu, Tensor gpu, double atol, double rtol) {
        assertEquals(Device.CPU, cpu.device(), what);
        assertArrayEquals(cpu.shape(), gpu.shape(), what + ": shape");
        assertEquals(cpu.dtype(), gpu.dtype(), what + ": dtype");
        double[] a = cpu.toDoubleArray();
        double[] b = gpu.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            boolean ok = Double.compare(a[i], b[i]) == 0 || Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(a[i]);
            assertTrue(ok, what + ": index " + i + " of " + a.length + ": cpu " + a[i] + ", gpu " + b[i]);
        }
    }

    /**
     * Runs f on CPU leaves and on CUDA copies of them; compares the outputs and, for floating
     * outputs, the gradients of sum(f * r) with respect to every floating input.
     */
    private static void same(String what, Function<Tensor[], Tensor> f, double atol, double rtol, Tensor... inputs) {
        Device d = gpu();
        Tensor[] c = new Tensor[inputs.length];
        Tensor[] g = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            boolean grad = inputs[i].dtype().isFloating();
            c[i] = inputs[i].detach().requiresGrad(grad);
            g[i] = inputs[i].detach().to(d).requiresGrad(grad);
        }
        Tensor yc = f.apply(c);
        Tensor yg = f.apply(g);
        assertEquals(d, yg.device(), what + ": result device");
        close(what, yc, yg, atol, rtol);
        if (!yc.dtype().isFloating() || !yc.requiresGrad()) {
            return;
        }
        Tensor r = rand(99, yc.shape());
        yc.mul(r).sum().backward();
        yg.mul(r.to(d)).sum().backward();
        for (int i = 0; i < inputs.length; i++) {
            if (c[i].grad() != null) {
                close(what + ": gradient of input " + i, c[i].grad(), g[i].grad(), atol, rtol);
            }
        }
    }

    private static void same(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        same(what, f, ATOL, RTOL, inputs);
    }

    @Test
    void copiesBothWaysKeepEveryDtype() {
        Device d = gpu();
        for (int n : SIZES) {
            Tensor f = rand(n, n);
            assertArrayEquals(f.toFloatArray(), f.to(d).to(Device.CPU).toFloatArray());
            Tensor l = Tensors.arange(n);
            assertArrayEquals(l.toLongArray(), l.to(d).to(Device.CPU).toLongArray());
            Tensor b = f.gt(0);
            assertArrayEquals(b.to(DType.F32).toFloatArray(), b.to(d).to(Device.CPU).to(DType.F32).toFloatArray());
            Tensor view = rand(n + 1, 3, n).transpose(0, 1).narrow(0, 0, Math.max(1, n / 2));
            assertArrayEquals(view.toFloatArray(), view.to(d).toFloatArray(), "strided view");
        }
        Tensor dev = Tensors.zeros(4, 5).to(d);
        dev.narrow(1, 1, 3).fill(2);
        dev.select(0, 2).copyFrom(Tensors.of(new float[] {1, 2, 3, 4, 5}, 5));
        Tensor host = Tensors.zeros(4, 5);
        host.narrow(1, 1, 3).fill(2);
        host.select(0, 2).copyFrom(Tensors.of(new float[] {1, 2, 3, 4, 5}, 5));
        close("fill and copyFrom on views", host, dev, 0, 0);
        assertEquals(3.0, Tensors.scalar(3).to(d).item());
    }

    @Test
    void elementwiseOpsWithBroadcastingMatchTheCpu() {
        for (UnaryOp op : UnaryOp.values()) {
            if (op == UnaryOp.GELU_GRAD) {
                continue;
            }
            for (int n : SIZES) {
                Tensor x = op == UnaryOp.LOG || op == UnaryOp.SQRT ? rand(n, n).abs().add(0.1) : rand(n, n);
                same(op + " n=" + n, t -> MathOps.unary(op, t[0]), 1e-5, 2e-5, x);
            }
        }
        for (BinaryOp op : BinaryOp.values()) {
            int[][][] shapes = {{{5, 7}, {5, 7}}, {{5, 7}, {7}}, {{5, 1}, {1, 7}}, {{3, 1, 9}, {4, 1}}, {{1023}, {}}};
            for (int[][] s : shapes) {
                Tensor a = op == BinaryOp.POW ? rand(1, s[0]).abs().add(0.5) : rand(1, s[0]);
                Tensor b = op == BinaryOp.DIV ? rand(2, s[1]).abs().add(0.5) : rand(2, s[1]);
                same(op + " " + java.util.Arrays.toString(s[0]) + " x " + java.util.Arrays.toString(s[1]),
                        t -> MathOps.binary(op, t[0], t[1]), 1e-5, 2e-5, a, b);
            }
        }
        same("pow 2.5", t -> t[0].abs().pow(2.5), rand(3, 257));
        same("pow -0.5", t -> t[0].abs().add(1).pow(-0.5), rand(3, 257));
        same("compare and where", t -> t[0].gt(t[1]).where(t[0], t[1].mul(2)), rand(4, 6, 9), rand(5, 9));
        same("clamp", t -> t[0].clamp(-0.5, 0.5), rand(6, 33, 3));
        same("scalar ops", t -> t[0].mul(3).add(1).div(2).sub(0.25), rand(7, 1025));
        same("transposed operand", t -> t[0].t().add(t[1]), rand(8, 9, 7), rand(9, 7, 9));
    }

    @Test
    void inPlaceOpsMatchTheCpu() {
        Device d = gpu();
        Tensor a = rand(1, 33, 17);
        Tensor b = rand(2, 17);
        Tensor ag = a.to(d);
        a.addInPlace(b).mulInPlace(0.5).addInPlace(b, -2);
        ag.addInPlace(b.to(d)).mulInPlace(0.5).addInPlace(b.to(d), -2);
        close("in-place ops", a, ag, 1e-6, 1e-6);
    }

    @Test
    void reductionsMatchTheCpu() {
        for (int n : SIZES) {
            Tensor x = rand(n, 3, n, 5);
            for (int dim = 0; dim < 3; dim++) {
                int dd = dim;
                same("sum dim " + dim + " n=" + n, t -> t[0].sum(dd, true), 1e-4, 1e-4, x);
                same("max dim " + dim + " n=" + n, t -> t[0].max(dd, false), x);
                same("min dim " + dim + " n=" + n, t -> t[0].min(dd, true), x);
                same("argmax dim " + dim + " n=" + n, t -> t[0].argmax(dd, false), x);
                same("argmin dim " + dim + " n=" + n, t -> t[0].argmin(dd, false), x);
            }
            same("mean and var n=" + n, t -> t[0].mean().add(t[0].var()), 1e-4, 1e-3, rand(n, n, 3));
        }
    }

    @Test
    void matmulMatchesTheCpu() {
        int[][] mnk = {{1, 1, 1}, {7, 5, 3}, {33, 65, 17}, {128, 128, 128}, {129, 257, 64}, {300, 10, 784}};
        for (int[] s : mnk) {
            Tensor a = rand(1, s[0], s[2]);
            Tensor b = rand(2, s[2], s[1]);
            same("matmul " + java.util.Arrays.toString(s), t -> t[0].matmul(t[1]), 1e-4 * Math.sqrt(s[2]), 1e-4, a, b);
            same("matmul A^T B^T " + java.util.Arrays.toString(s), t -> t[0].t().contiguous().t().matmul(t[1].t().contiguous().t()),
                    1e-4 * Math.sqrt(s[2]), 1e-4, a, b);
        }
        same("batched matmul with broadcast", t -> t[0].matmul(t[1]), 1e-4, 1e-4, rand(3, 4, 9, 13), rand(4, 13, 11));
        same("linear", t -> t[0].matmul(t[1].t()).add(t[2]), 1e-4, 1e-4, rand(5, 64, 784), rand(6, 300, 784), rand(7, 300));
        same("Functional.linear (fused bias)", t -> Functional.linear(t[0], t[1], t[2]), 1e-4, 1e-4, rand(5, 65, 33), rand(6, 17, 33),
                rand(7, 17));
        same("Functional.linearRelu", t -> Functional.linearRelu(t[0], t[1], t[2]), 1e-4, 1e-4, rand(5, 3, 7, 33), rand(6, 17, 33),
                rand(7, 17));
    }

    @Test
    void softmaxAndCrossEntropyMatchTheCpu() {
        for (int n : SIZES) {
            same("softmax last n=" + n, t -> Functional.softmax(t[0], 1), 1e-6, 1e-4, rand(n, 5, n));
            same("logSoftmax last n=" + n, t -> Functional.logSoftmax(t[0], 1), 1e-5, 1e-4, rand(n, 5, n));
            same("softmax middle n=" + n, t -> Functional.softmax(t[0], 1), 1e-6, 1e-4, rand(n, 2, n, 3));
            Tensor labels = Tensors.of(new long[] {0, 3, 4, 1, 2}, 5);
            same("crossEntropyRows, CPU labels n=" + n, t -> Functional.crossEntropyRows(t[0], labels), 1e-5, 1e-4, rand(n, 5, 5 + n));
            same("crossEntropyRows, device labels n=" + n, t -> Functional.crossEntropyRows(t[0], t[1]), 1e-5, 1e-4,
                    rand(n, 5, 5 + n), labels);
        }
    }

    @Test
    void convolutionsMatchTheCpu() {
        int[][] cases = {
            // n, c, h, w, oc, k, stride, pad, dilation, groups
            {1, 1, 5, 5, 1, 3, 1, 0, 1, 1}, {2, 3, 28, 28, 6, 5, 1, 2, 1, 1}, {3, 6, 14, 14, 16, 5, 1, 0, 1, 1},
            {2, 4, 9, 7, 8, 3, 2, 1, 1, 2}, {1, 8, 11, 11, 4, 3, 1, 2, 2, 1}, {5, 16, 8, 8, 32, 1, 1, 0, 1, 1},
            {2, 64, 17, 17, 64, 3, 1, 1, 1, 1}};
        for (int[] c : cases) {
            Tensor x = rand(1, c[0], c[1], c[2], c[3]);
            Tensor w = rand(2, c[4], c[1] / c[9], c[5], c[5]);
            Tensor b = rand(3, c[4]);
            int[] st = {c[6]};
            int[] pd = {c[7]};
            int[] dl = {c[8]};
            int groups = c[9];
            double tol = 1e-4 * Math.sqrt(c[1] * c[5] * c[5]);
            same("conv2d " + java.util.Arrays.toString(c), t -> Functional.conv2d(t[0], t[1], t[2], st, pd, dl, groups), tol, 1e-4, x, w, b);
        }
    }

    @Test
    void poolingMatchesTheCpu() {
        for (int n : new int[] {1, 5, 14, 28, 33}) {
            Tensor x = rand(n, 2, 3, n, n + 1);
            same("maxPool2d 2 n=" + n, t -> Functional.maxPool2d(t[0], 2), x.add(0));
            same("maxPool2d 3/2 pad 1 n=" + n, t -> Functional.maxPool2d(t[0], new int[] {3}, new int[] {2}, new int[] {1},
                    new int[] {1}, true), x);
            same("avgPool2d 2 n=" + n, t -> Functional.avgPool2d(t[0], 2), x);
            same("avgPool2d 3/2 pad 1 n=" + n, t -> Functional.avgPool2d(t[0], new int[] {3}, new int[] {2}, new int[] {1}, true, false), x);
            same("adaptiveAvgPool2d n=" + n, t -> Functional.adaptiveAvgPool2d(t[0], 3, 2), x);
        }
    }

    @Test
    void indexOpsMatchTheCpu() {
        Tensor idx = Tensors.of(new long[] {4, 0, 2, 2, 9}, 5);
        same("indexSelect dim 0", t -> Functional.indexSelect(t[0], 0, idx), rand(1, 10, 7));
        same("indexSelect dim 1", t -> Functional.indexSelect(t[0], 1, idx), rand(2, 3, 10, 2));
        same("embedding", t -> Functional.embedding(t[0], Tensors.of(new long[] {1, 3, 3, 0}, 2, 2)), rand(3, 5, 8));
        Tensor gi = Tensors.of(new long[] {0, 2, 1, 1, 0, 0}, 2, 3);
        same("gather dim 1", t -> Functional.gather(t[0], 1, gi), rand(4, 2, 4));
        same("cat and stack", t -> Functional.cat(1, t[0], t[1]).add(Functional.stack(0, t[0], t[1]).sum(0, false).sum(1, true)),
                rand(5, 3, 4), rand(6, 3, 4));
    }
}
