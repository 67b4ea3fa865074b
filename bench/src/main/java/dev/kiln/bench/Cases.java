package dev.kiln.bench;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.cpu.Gemm;
import dev.kiln.kernels.cpu.QGemm;
import dev.kiln.kernels.cpu.Sparse;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.loss.Losses;
import dev.kiln.nn.optim.Adam;
import dev.kiln.nn.optim.Optimizer;
import dev.kiln.nn.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The report's standard cases: square sgemm, Linear and conv2d forward+backward at batch 64, the
 * int8 Linear against fp32, pruned (sparse) Linear against dense, and the memory-bound ops of a
 * training step around them.
 */
final class Cases {
    private Cases() {
    }

    static List<Case> sgemm(int[] sizes) {
        List<Case> out = new ArrayList<>();
        for (int s : sizes) {
            float[] a = BenchData.random(s * s, 1);
            float[] b = BenchData.random(s * s, 2);
            float[] c = new float[s * s];
            out.add(new Case("sgemm", s + "x" + s + "x" + s, 2.0 * s * s * s, "GFLOP/s",
                    () -> Gemm.sgemm(false, c, 0, s, false, a, 0, s, false, b, 0, s, s, s, s),
                    () -> new OpenBlasPeer(s, s, s, false, a, b),
                    "sgemm", Map.of("m", s, "n", s, "k", s, "transB", false)));
        }
        return out;
    }

    /** Linear y = x W^T + b at batch 64, forward and backward (grads of x, W, b): 3 GEMMs. */
    static List<Case> linear(int batch, int[][] shapes) {
        List<Case> out = new ArrayList<>();
        Generator g = new Generator(3);
        for (int[] io : shapes) {
            int in = io[0];
            int o = io[1];
            Tensor x = Tensors.randn(g, batch, in).requiresGrad(true);
            Tensor w = Tensors.randn(g, o, in).requiresGrad(true);
            Tensor b = Tensors.randn(g, o).requiresGrad(true);
            Tensor ones = Tensors.ones(batch, o);
            // Gradients accumulate across calls on both sides, as in the PyTorch case (backward adds into the
            // leaves' .grad; nothing zeroes them).
            Runnable kiln = () -> Functional.linear(x, w, b).backward(ones);
            out.add(new Case("linear", "b" + batch + " " + in + "->" + o + " fwd+bwd", 3 * 2.0 * batch * in * o, "GFLOP/s",
                    kiln, null, "linear_fb", Map.of("batch", batch, "in", in, "out", o)));
        }
        return out;
    }

    /**
     * Linear inference {@code y = x W^T + b} at {@code batch} (batch 1: a matrix-vector product per
     * layer, latency-bound), no gradients on either side: the engine's op against
     * {@code F.linear} under {@code torch.no_grad()}, and OpenBLAS on the same product without the
     * bias ({@code sgemv} for one row: {@link OpenBlasPeer#run}).
     */
    static List<Case> linearInference(int batch, int[][] shapes) {
        List<Case> out = new ArrayList<>();
        Generator g = new Generator(3);
        for (int[] io : shapes) {
            int in = io[0];
            int o = io[1];
            Tensor x = Tensors.randn(g, batch, in);
            Tensor w = Tensors.randn(g, o, in);
            Tensor b = Tensors.randn(g, o);
            float[] xa = x.toFloatArray();
            float[] wa = w.toFloatArray();
            out.add(new Case("linear", "b" + batch + " " + in + "->" + o + " fwd", 2.0 * batch * in * o, "GFLOP/s",
                    () -> Functional.linear(x, w, b), () -> new OpenBlasPeer(batch, o, in, true, xa, wa), "linear_f",
                    Map.of("batch", batch, "in", in, "out", o)));
        }
        return out;
    }

    /** conv2d forward+backward (grads of input, weight, bias) at batch {@code n}: 3x the forward FLOPs. */
    static List<Case> conv(int n, int[][] layers) {
        List<Case> out = new ArrayList<>();
        Generator g = new Generator(4);
        for (int[] l : layers) {
            int c = l[0];
            int oc = l[1];
            int hw = l[2];
            int k = l[3];
            int pad = l[4];
            int ohw = hw + 2 * pad - k + 1;
            Tensor x = Tensors.randn(g, n, c, hw, hw).requiresGrad(true);
            Tensor w = Tensors.randn(g, oc, c, k, k).requiresGrad(true);
            Tensor b = Tensors.randn(g, oc).requiresGrad(true);
            Tensor ones = Tensors.ones(n, oc, ohw, ohw);
            // As the torch peer's case: every call adds its gradients into the leaves' .grad (nothing
            // zeroes them; x's straight from the input-gradient kernel, Backend.conv2dBackwardInputAccumulate).
            Runnable kiln = () -> Functional.conv2d(x, w, b, 1, pad).backward(ones);
            double fwd = 2.0 * n * oc * ohw * ohw * c * k * k;
            out.add(new Case("conv", "b" + n + " " + c + "->" + oc + " " + hw + "x" + hw + " k" + k + " fwd+bwd", 3 * fwd, "GFLOP/s",
                    kiln, null, "conv_fb", Map.of("n", n, "c", c, "h", hw, "w", hw, "oc", oc, "k", k, "stride", 1, "pad", pad)));
        }
        return out;
    }

    /**
     * Linear forward {@code y = x W^T + b} at {@code batch} for an {@code in -> out} layer: fp32 (the
     * baseline), int8 with x already quantized (the GEMM and its dequantize epilogue; the weight as
     * plain bytes, then prepacked by {@link QGemm#packWeights}) and int8 with dynamic quantization of
     * x on every call, prepacked weight: with x quantized to {@code [0, 127]} as PyTorch's
     * {@code quantize_dynamic} Linear does (its module passes {@code reduce_range=True}; the torch
     * peer, whose quantized engine is oneDNN when it has one and which prepacks its weight too;
     * checked: its outputs match a 7-bit simulation to 1e-6 and differ from an 8-bit one by 0.03),
     * and with the full {@code [0, 255]} (no peer). Weights are int8 per output channel.
     */
    static List<Case> int8(int batch, int in, int out) {
        float[] x = BenchData.random(batch * in, 5);
        float[] w = BenchData.random(out * in, 6);
        float[] bias = BenchData.random(out, 7);
        float[] y = new float[batch * out];
        float[] wScales = new float[out];
        for (int r = 0; r < out; r++) {
            float m = 0;
            for (int i = 0; i < in; i++) {
                m = Math.max(m, Math.abs(w[r * in + i]));
            }
            wScales[r] = m > 0 ? m / 127f : 1f;
        }
        byte[] wq = new byte[out * in];
        QGemm.quantizeRows(wq, 0, in, false, w, 0, in, wScales, null, out, in);
        QGemm.PackedWeights packed = QGemm.packWeights(wq, 0, in, out, in);
        byte[] xq = new byte[batch * in];
        byte[] xq8 = new byte[batch * in];
        QGemm.QParams fixed = QGemm.dynamicQParams(x, 0, batch * in);
        QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, fixed.scale(), fixed.zeroPoint());
        double ops = 2.0 * batch * in * out;
        String shape = "b" + batch + " " + in + "->" + out;
        String fp32 = "fp32 linear " + shape;
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("int8", fp32, ops, "GFLOP/s", () -> {
            Gemm.sgemm(false, y, 0, out, false, x, 0, in, true, w, 0, in, batch, out, in);
            for (int t = 0; t < batch; t++) {
                for (int j = 0; j < out; j++) {
                    y[t * out + j] += bias[j];
                }
            }
        }, () -> new OpenBlasPeer(batch, out, in, true, x, w), "sgemm",
                Map.of("m", batch, "n", out, "k", in, "transB", true)));
        cases.add(new Case("int8", "int8 gemm+dequant " + shape, ops, "GOP/s", () ->
                QGemm.gemmDequant(y, 0, out, xq, 0, in, true, fixed.zeroPoint(), fixed.scale(), wq, 0, in, wScales, bias,
                        batch, out, in), null, null, Map.of(), fp32));
        cases.add(new Case("int8", "int8 gemm+dequant packed " + shape, ops, "GOP/s", () ->
                QGemm.gemmDequant(y, 0, out, xq, 0, in, true, fixed.zeroPoint(), fixed.scale(), packed, wScales, bias,
                        batch), null, null, Map.of(), fp32));
        cases.add(new Case("int8", "int8 dynamic linear " + shape, ops, "GOP/s", () -> {
            QGemm.QParams q = QGemm.dynamicQParams(x, 0, batch * in, true);
            QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, q.scale(), q.zeroPoint());
            QGemm.gemmDequant(y, 0, out, xq, 0, in, true, q.zeroPoint(), q.scale(), packed, wScales, bias, batch);
        }, null, "qlinear", Map.of("batch", batch, "in", in, "out", out, "engine", "onednn"), fp32));
        cases.add(new Case("int8", "int8 dynamic 8-bit x " + shape, ops, "GOP/s", () -> {
            QGemm.QParams q = QGemm.dynamicQParams(x, 0, batch * in, false);
            QGemm.quantizePerTensor(xq8, 0, true, x, 0, batch * in, q.scale(), q.zeroPoint());
            QGemm.gemmDequant(y, 0, out, xq8, 0, in, true, q.zeroPoint(), q.scale(), packed, wScales, bias, batch);
        }, null, null, Map.of(), fp32));
        return cases;
    }

    /**
     * Pruned Linear forward {@code y = x W^T} at {@code batch}, {@code n x n} weights: dense fp32 (the
     * baseline), then CSR at each sparsity (magnitude pruning of a random weight) and 4x1 block-sparse
     * (whole blocks pruned) at the same sparsity. Rates are dense-equivalent ({@code 2*batch*n*n} per
     * call), so "vs base" is the speed-up over dense. The torch peer runs {@code torch.sparse.mm}
     * on the same density.
     */
    static List<Case> sparse(int batch, int n, double[] sparsities) {
        float[] x = BenchData.random(batch * n, 8);
        float[] w = BenchData.random(n * n, 9);
        float[] y = new float[batch * n];
        double ops = 2.0 * batch * n * n;
        String shape = "b" + batch + " " + n + "x" + n;
        String dense = "dense " + shape;
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("sparse", dense, ops, "GFLOP/s",
                () -> Gemm.sgemm(false, y, 0, n, false, x, 0, n, true, w, 0, n, batch, n, n),
                () -> new OpenBlasPeer(batch, n, n, true, x, w), "sgemm", Map.of("m", batch, "n", n, "k", n, "transB", true)));
        for (double sp : sparsities) {
            String pct = Math.round(sp * 100) + "%";
            SparseCsr csr = SparseCsr.fromDense(w, 0, n, n, BenchData.magnitudeThreshold(w, sp));
            cases.add(new Case("sparse", "csr " + pct + " " + shape, ops, "eff.GFLOP/s",
                    () -> Sparse.spmmCsr(y, 0, n, csr, x, 0, n, batch, false), null, "spmm",
                    Map.of("out", n, "in", n, "batch", batch, "density", 1 - sp), dense));
        }
        for (double sp : sparsities) {
            String pct = Math.round(sp * 100) + "%";
            float[] wb = BenchData.blockPruned(w, n, n, 4, sp);
            BlockSparse bs = BlockSparse.fromDense(wb, 0, n, n, 4, 1, 0f);
            cases.add(new Case("sparse", "block4x1 " + pct + " " + shape, ops, "eff.GFLOP/s",
                    () -> Sparse.spmmBlock(y, 0, n, bs, x, 0, n, batch, false), null, null, Map.of(), dense));
        }
        return cases;
    }

    /**
     * The memory-bound ops of a training step, each as a user calls it, at batch {@code n}: 2x2 max
     * pooling forward+backward (LeNet-5's first pool and the small VGG's), ReLU forward+backward,
     * batch norm + ReLU forward+backward (the small VGG's fused block end), softmax cross-entropy
     * forward+backward (10 and 1000 classes), and one SGD-momentum and one Adam step over the small
     * VGG's 871,018 parameters. Rates are in GB/s of the op's own tensors, each read or written once:
     * forward inputs and outputs, the output gradient, the input gradients; the optimizers' parameter,
     * gradient and state read and parameter and state written ({@link #opsBytes}); whatever an
     * implementation keeps besides (pooling's argmax, batch norm's statistics) is not counted. The
     * gradients are set to null before each call ({@code zero_grad(set_to_none=True)}) on both
     * sides, so no case accumulates.
     */
    static List<Case> ops(int n) {
        List<Case> out = new ArrayList<>();
        Generator g = new Generator(10);
        for (int[] l : new int[][] {{6, 28}, {32, 28}}) {
            int c = l[0];
            int hw = l[1];
            Tensor x = Tensors.randn(g, n, c, hw, hw).requiresGrad(true);
            Tensor gy = Tensors.randn(g, n, c, hw / 2, hw / 2);
            double elems = (double) n * c * hw * hw;
            double bytes = opsBytes(elems + elems / 4, elems / 4 + elems);
            out.add(Case.memory("ops", "maxpool2x2 " + n + "x" + c + "x" + hw + "x" + hw + " fwd+bwd", bytes, bytes, () -> {
                x.setGrad(null);
                Functional.maxPool2d(x, 2).backward(gy);
            }, "maxpool_fb", Map.of("n", n, "c", c, "h", hw, "k", 2)));
        }
        {
            int c = 32;
            int hw = 28;
            Tensor x = Tensors.randn(g, n, c, hw, hw).requiresGrad(true);
            Tensor gy = Tensors.randn(g, n, c, hw, hw);
            double elems = (double) n * c * hw * hw;
            String shape = n + "x" + c + "x" + hw + "x" + hw;
            double bytes = opsBytes(2 * elems, 2 * elems);
            out.add(Case.memory("ops", "relu " + shape + " fwd+bwd", bytes, bytes, () -> {
                x.setGrad(null);
                x.relu().backward(gy);
            }, "relu_fb", Map.of("n", n, "c", c, "h", hw)));
            Tensor w = Tensors.randn(g, c).requiresGrad(true);
            Tensor b = Tensors.randn(g, c).requiresGrad(true);
            Tensor mean = Tensors.zeros(c);
            Tensor var = Tensors.ones(c);
            out.add(Case.memory("ops", "batchnorm+relu " + shape + " fwd+bwd", bytes, bytes, () -> {
                x.setGrad(null);
                w.setGrad(null);
                b.setGrad(null);
                Functional.batchNormRelu(x, mean, var, w, b, true, 0.1, 1e-5).backward(gy);
            }, "bnrelu_fb", Map.of("n", n, "c", c, "h", hw)));
        }
        for (int classes : new int[] {10, 1000}) {
            Tensor x = Tensors.randn(g, n, classes).requiresGrad(true);
            long[] t = new long[n];
            for (int i = 0; i < n; i++) {
                t[i] = (i * 7L) % classes;
            }
            Tensor target = Tensors.of(t, n);
            double elems = (double) n * classes;
            double bytes = opsBytes(elems, elems);
            out.add(Case.memory("ops", "cross-entropy " + n + "x" + classes + " fwd+bwd", bytes, bytes, () -> {
                x.setGrad(null);
                Losses.crossEntropy(x, target).backward();
            }, "xent_fb", Map.of("n", n, "classes", classes)));
        }
        int params = 871_018;
        for (String opt : new String[] {"sgd", "adam"}) {
            Tensor p = Tensors.randn(g, params).requiresGrad(true);
            p.setGrad(Tensors.randn(g, params));
            Optimizer o = opt.equals("sgd") ? new SGD(List.of(new Parameter(p)), 0.01, 0.9, 0, false)
                    : new Adam(List.of(new Parameter(p)), 1e-3, 0.9, 0.999, 1e-8, 0);
            // read: parameter, gradient, state (1 buffer for SGD momentum, 2 for Adam); written: parameter, state
            int state = opt.equals("sgd") ? 1 : 2;
            out.add(Case.memory("ops", (opt.equals("sgd") ? "SGD momentum step " : "Adam step ") + params + " params",
                    opsBytes((2.0 + state) * params, (1.0 + state) * params), opsBytes((2.0 + state) * params, 0), o::step, opt,
                    Map.of("params", params)));
        }
        return out;
    }

    /** Bytes of {@code read} and {@code written} fp32 elements, each once. */
    static double opsBytes(double read, double written) {
        return 4 * (read + written);
    }
}
