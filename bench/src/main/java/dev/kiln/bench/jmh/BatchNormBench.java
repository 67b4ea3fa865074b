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
 * Batch norm in training mode, forward and backward (gradients of input, weight and bias): {@code fused}
 * is {@code Functional.batchNorm} (the backend's fused kernel where it takes the shape), {@code composed}
 * the same arithmetic from generic recorded ops (mean, variance, subtract, divide, scale, shift), as
 * Kiln computed it before the fused kernel and still does for {@code [N, C]} inputs. Shapes: the small
 * VGG's two batch-norm inputs and a BatchNorm1d input ("N-C-H-W" or "N-C").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BatchNormBench {
    @Param({"64-32-28-28", "64-64-14-14", "64-256"})
    public String shape;

    @Param({"1"})
    public int threads;

    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor gy;
    private Tensor runningMean;
    private Tensor runningVar;
    private int[] dims;
    private int[] channelShape;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int[] s = Dims.parse(shape, "-");
        Generator g = new Generator(3);
        x = Tensors.randn(g, s).requiresGrad(true);
        gy = Tensors.randn(g, s);
        w = Tensors.ones(s[1]).requiresGrad(true);
        b = Tensors.zeros(s[1]).requiresGrad(true);
        runningMean = Tensors.zeros(s[1]);
        runningVar = Tensors.ones(s[1]);
        dims = new int[s.length - 1];
        for (int i = 1; i < dims.length; i++) {
            dims[i] = i + 1;
        }
        channelShape = new int[s.length];
        java.util.Arrays.fill(channelShape, 1);
        channelShape[1] = s[1];
    }

    private void clearGrads() {
        x.setGrad(null);
        w.setGrad(null);
        b.setGrad(null);
    }

    @Benchmark
    public Tensor fused() {
        clearGrads();
        Functional.batchNorm(x, runningMean, runningVar, w, b, true, 0.1, 1e-5).backward(gy);
        return x.grad();
    }

    @Benchmark
    public Tensor composed() {
        clearGrads();
        Tensor mean = x.mean(dims, true);
        Tensor var = x.var(dims, false, true);
        Tensor y = x.sub(mean).div(var.add(1e-5).sqrt()).mul(w.reshape(channelShape)).add(b.reshape(channelShape));
        y.backward(gy);
        return x.grad();
    }
}
