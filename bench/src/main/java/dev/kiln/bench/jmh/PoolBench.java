package dev.kiln.bench.jmh;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.Pool;
import java.util.Arrays;
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
 * 2x2 max pooling, stride 2: the kernel forward (values and argmax into caller-owned arrays), the
 * kernel backward (zeroing the input gradient, then scattering into it, as the engine does), and
 * {@code Functional.maxPool2d} forward+backward as a training step calls it (allocating its
 * output and gradient). Layers "N-C-H" (square inputs): LeNet-5's two pools and the small VGG's
 * first. {@code ./kiln bench --groups ops} compares the engine case with PyTorch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PoolBench {
    @Param({"64-6-28", "64-16-10", "64-32-28"})
    public String layer;

    @Param({"1"})
    public int threads;

    private int planes;
    private int hw;
    private float[] x;
    private float[] y;
    private int[] argmax;
    private float[] gy;
    private float[] gx;
    private Tensor xt;
    private Tensor gyt;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int[] d = Dims.parse(layer, "-");
        int n = d[0];
        int c = d[1];
        hw = d[2];
        planes = n * c;
        Generator g = new Generator(5);
        xt = Tensors.randn(g, n, c, hw, hw).requiresGrad(true);
        gyt = Tensors.randn(g, n, c, hw / 2, hw / 2);
        x = xt.detach().toFloatArray();
        gy = gyt.toFloatArray();
        y = new float[gy.length];
        argmax = new int[gy.length];
        gx = new float[x.length];
        kernelForward();
    }

    @Benchmark
    public float[] kernelForward() {
        int o = hw / 2;
        Pool.maxPool2d(y, argmax, x, planes, hw, hw, 2, 2, 2, 2, 0, 0, 1, 1, o, o);
        return y;
    }

    @Benchmark
    public float[] kernelBackward() {
        Arrays.fill(gx, 0f);
        Pool.maxPool2dBackward(gx, gy, argmax, planes, hw, hw, hw / 2, hw / 2);
        return gx;
    }

    @Benchmark
    public Tensor engineForwardBackward() {
        xt.setGrad(null);
        Functional.maxPool2d(xt, 2).backward(gyt);
        return xt.grad();
    }
}
