package dev.kiln.bench.jmh;

import dev.kiln.bench.BenchData;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.Gemm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The three GEMMs of a Linear layer {@code [batch, in] -> [batch, out]} at the kernel level (no
 * tensors, no autograd): forward {@code y = act(x W^T + b)} with the bias (and ReLU) in the store,
 * input gradient {@code gx = gy W} and weight gradient {@code gW = gy^T x}. Batch 1 and 8 take the
 * direct (GEMV-like) path, 64 and 256 the packed one. FLOPs per call: {@code 2 * batch * in * out}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LinearGemmBench {
    @Param({"1", "8", "64", "256"})
    public int batch;

    @Param({"784x300", "300x100", "100x10", "400x120", "120x84", "84x10", "1024x1024"})
    public String shape;

    @Param({"1"})
    public int threads;

    private int in;
    private int out;
    private float[] x;
    private float[] w;
    private float[] b;
    private float[] y;
    private float[] gx;
    private float[] gw;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        String[] io = shape.split("x");
        in = Integer.parseInt(io[0]);
        out = Integer.parseInt(io[1]);
        x = BenchData.random(batch * in, 1);
        w = BenchData.random(out * in, 2);
        b = BenchData.random(out, 3);
        y = new float[batch * out];
        gx = new float[batch * in];
        gw = new float[out * in];
    }

    @Benchmark
    public float forwardBias() {
        Gemm.sgemmBias(false, y, 0, out, false, x, 0, in, true, w, 0, in, b, 0, batch, out, in);
        return y[0];
    }

    @Benchmark
    public float forwardBiasRelu() {
        Gemm.sgemmBias(true, y, 0, out, false, x, 0, in, true, w, 0, in, b, 0, batch, out, in);
        return y[0];
    }

    /** {@code gx[batch, in] = gy[batch, out] W[out, in]} (y stands in for gy). */
    @Benchmark
    public float inputGradient() {
        Gemm.sgemm(false, gx, 0, in, false, y, 0, out, false, w, 0, in, batch, in, out);
        return gx[0];
    }

    /** {@code gW[out, in] = gy[batch, out]^T x[batch, in]}. */
    @Benchmark
    public float weightGradient() {
        Gemm.sgemm(false, gw, 0, in, true, y, 0, out, false, x, 0, in, out, in, batch);
        return gw[0];
    }
}
