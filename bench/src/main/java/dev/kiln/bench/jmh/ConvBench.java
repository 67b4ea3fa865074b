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
 * conv2d layers of LeNet-5 (28x28 input) and a small VGG (32x32 input) at batch 64 through the
 * engine, forward and forward+backward. Layer: "C->OC@HxW k K p P".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvBench {
    @Param({"1-6-28-5-2", "6-16-14-5-0", "3-32-32-3-1", "32-64-16-3-1", "64-128-8-3-1"})
    public String layer;

    @Param({"64"})
    public int batch;

    @Param({"1"})
    public int threads;

    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor ones;
    private int pad;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        String[] p = layer.split("-");
        int c = Integer.parseInt(p[0]);
        int oc = Integer.parseInt(p[1]);
        int hw = Integer.parseInt(p[2]);
        int k = Integer.parseInt(p[3]);
        pad = Integer.parseInt(p[4]);
        Generator g = new Generator(2);
        x = Tensors.randn(g, batch, c, hw, hw).requiresGrad(true);
        w = Tensors.randn(g, oc, c, k, k).requiresGrad(true);
        b = Tensors.randn(g, oc).requiresGrad(true);
        int o = hw + 2 * pad - k + 1;
        ones = Tensors.ones(batch, oc, o, o);
    }

    @Benchmark
    public Tensor forward() {
        return Functional.conv2d(x.detach(), w.detach(), b.detach(), 1, pad);
    }

    @Benchmark
    public Tensor forwardBackward() {
        x.setGrad(null);
        w.setGrad(null);
        b.setGrad(null);
        Functional.conv2d(x, w, b, 1, pad).backward(ones);
        return w.grad();
    }
}
