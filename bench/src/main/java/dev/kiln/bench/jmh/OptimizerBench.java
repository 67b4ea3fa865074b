package dev.kiln.bench.jmh;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.Adam;
import dev.kiln.nn.optim.AdamW;
import dev.kiln.nn.optim.SGD;
import java.util.List;
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
 * One optimizer step (the fused in-place update of parameter and state) over one flat parameter
 * of {@code params} floats with a fixed gradient: SGD with momentum 0.9, SGD with momentum,
 * weight decay and Nesterov, Adam and AdamW. Sizes: LeNet-5's 61,706 parameters (one thread's
 * work) and the small VGG's 871,018 (split over the threads). {@code ./kiln bench --groups ops}
 * compares the SGD and Adam steps with PyTorch's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OptimizerBench {
    @Param({"61706", "871018"})
    public int params;

    @Param({"1"})
    public int threads;

    private SGD sgd;
    private SGD sgdNesterov;
    private Adam adam;
    private AdamW adamW;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        Generator g = new Generator(6);
        sgd = new SGD(List.of(parameter(g)), 0.01, 0.9, 0, false);
        sgdNesterov = new SGD(List.of(parameter(g)), 0.01, 0.9, 5e-4, true);
        adam = new Adam(List.of(parameter(g)), 1e-3, 0.9, 0.999, 1e-8, 0);
        adamW = new AdamW(List.of(parameter(g)), 1e-3, 0.9, 0.999, 1e-8, 0.01);
    }

    private Parameter parameter(Generator g) {
        Tensor p = Tensors.randn(g, params).requiresGrad(true);
        p.setGrad(Tensors.randn(g, params).mul(1e-3));
        return new Parameter(p);
    }

    @Benchmark
    public void sgdMomentum() {
        sgd.step();
    }

    @Benchmark
    public void sgdNesterovWeightDecay() {
        sgdNesterov.step();
    }

    @Benchmark
    public void adam() {
        adam.step();
    }

    @Benchmark
    public void adamW() {
        adamW.step();
    }
}
