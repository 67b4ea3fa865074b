package dev.kiln.bench.jmh;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.cpu.Elementwise;
import dev.kiln.kernels.cpu.GemmEpilogue;
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
 * ReLU forward and backward: the kernels into caller-owned arrays ({@code Elementwise.unary} RELU
 * and {@code GemmEpilogue.reluBackward}; split over the threads from 131,072 elements) and the
 * engine's ReLU as a training step calls it (allocating its output and gradient: the difference
 * is the JVM zeroing fresh arrays). Shapes "N-C-H-W" or "N-F": the MLP's first hidden layer,
 * LeNet-5's first conv output and the small VGG's. Bias + ReLU fused into a GEMM's store is in
 * {@link LinearBench} ({@code forwardRelu}, {@code forwardBackwardRelu}); batch norm + ReLU in
 * {@code ./kiln bench --groups ops}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBench {
    @Param({"64-300", "64-6-28-28", "64-32-28-28"})
    public String shape;

    @Param({"1"})
    public int threads;

    private float[] x;
    private float[] y;
    private float[] gy;
    private float[] gx;
    private Tensor xt;
    private Tensor gyt;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int[] s = Dims.parse(shape, "-");
        Generator g = new Generator(8);
        xt = Tensors.randn(g, s).requiresGrad(true);
        gyt = Tensors.randn(g, s);
        x = xt.detach().toFloatArray();
        gy = gyt.toFloatArray();
        y = new float[x.length];
        gx = new float[x.length];
    }

    @Benchmark
    public float[] kernelReluForwardBackward() {
        Elementwise.unary(UnaryOp.RELU, y, 0, x, 0, x.length);
        GemmEpilogue.reluBackward(gx, 0, gy, 0, y, 0, x.length);
        return gx;
    }

    @Benchmark
    public Tensor engineReluForwardBackward() {
        xt.setGrad(null);
        xt.relu().backward(gyt);
        return xt.grad();
    }
}
