package dev.kiln.bench;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.cpu.Gemm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The report's standard cases: square sgemm, Linear and conv2d forward+backward at batch 64. */
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
            Runnable kiln = () -> {
                x.setGrad(null);
                w.setGrad(null);
                b.setGrad(null);
                x.matmul(w.t()).add(b).backward(ones);
            };
            out.add(new Case("linear", "b" + batch + " " + in + "->" + o + " fwd+bwd", 3 * 2.0 * batch * in * o, "GFLOP/s",
                    kiln, null, "linear_fb", Map.of("batch", batch, "in", in, "out", o)));
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
            Runnable kiln = () -> {
                x.setGrad(null);
                w.setGrad(null);
                b.setGrad(null);
                Functional.conv2d(x, w, b, 1, pad).backward(ones);
            };
            double fwd = 2.0 * n * oc * ohw * ohw * c * k * k;
            out.add(new Case("conv", "b" + n + " " + c + "->" + oc + " " + hw + "x" + hw + " k" + k + " fwd+bwd", 3 * fwd, "GFLOP/s",
                    kiln, null, "conv_fb", Map.of("n", n, "c", c, "h", hw, "w", hw, "oc", oc, "k", k, "stride", 1, "pad", pad)));
        }
        return out;
    }
}
