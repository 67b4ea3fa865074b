package dev.kiln.bench.jmh;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
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
 * Linear layers of the MLP (784-300-100-10) and LeNet-5 (400-120-84-10) through the engine
 * ({@code Functional.linear}, as nn's Linear), forward and forward+backward, with and without the
 * fused ReLU; batch 1 and 64 take the direct (GEMV-like) and packed GEMM paths.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LinearBench {
    @Param({"1", "64", "256"})
    public int batch;

    @Param({"784x300", "300x100", "100x10", "400x120", "120x84", "84x10", "1024x1024"})
    public String shape;

    @Param({"1"})
    public int threads;

    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor ones;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        String[] io = shape.split("x");
        int in = Integer.parseInt(io[0]);
        int out = Integer.parseInt(io[1]);
        Generator g = new Generator(1);
        x = Tensors.randn(g, batch, in).requiresGrad(true);
        w = Tensors.randn(g, out, in).requiresGrad(true);
        b = Tensors.randn(g, out).requiresGrad(true);
        ones = Tensors.ones(batch, out);
    }

    @Benchmark
    public Tensor forward() {
        return Functional.linear(x.detach(), w.detach(), b.detach());
    }

    /** Bias and ReLU fused into the GEMM's store (what Sequential runs for Linear + ReLU). */
    @Benchmark
    public Tensor forwardRelu() {
        return Functional.linearRelu(x.detach(), w.detach(), b.detach());
    }

    @Benchmark
    public Tensor forwardBackward() {
        x.setGrad(null);
        w.setGrad(null);
        b.setGrad(null);
        Functional.linear(x, w, b).backward(ones);
        return w.grad();
    }

    @Benchmark
    public Tensor forwardBackwardRelu() {
        x.setGrad(null);
        w.setGrad(null);
        b.setGrad(null);
        Functional.linearRelu(x, w, b).backward(ones);
        return w.grad();
    }
}
