package dev.kiln.bench.jmh;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.Softmax;
import dev.kiln.nn.loss.Losses;
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
 * Softmax cross-entropy: the fused kernels (per-row loss and statistics, then {@code softmax -
 * onehot} scaled by the loss gradient, into caller-owned arrays) and {@code Losses.crossEntropy}
 * forward+backward (mean over the batch) as a training step calls it; and the plain row softmax
 * kernel. Shapes "rows x classes": the 10 classes of Fashion-MNIST at batch 64 and 1000 classes
 * at batch 64 and 256. {@code ./kiln bench --groups ops} compares the engine case with PyTorch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LossBench {
    @Param({"64x10", "64x1000", "256x1000"})
    public String shape;

    @Param({"1"})
    public int threads;

    private int rows;
    private int classes;
    private float[] x;
    private float[] out;
    private float[] loss;
    private float[] stats;
    private float[] ones;
    private long[] target;
    private Tensor xt;
    private Tensor targetT;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int[] d = Dims.parse(shape, "x");
        rows = d[0];
        classes = d[1];
        Generator g = new Generator(7);
        xt = Tensors.randn(g, rows, classes).requiresGrad(true);
        x = xt.detach().toFloatArray();
        out = new float[x.length];
        loss = new float[rows];
        stats = new float[2 * rows];
        ones = new float[rows];
        java.util.Arrays.fill(ones, 1f / rows);
        target = new long[rows];
        for (int r = 0; r < rows; r++) {
            target[r] = (r * 7L) % classes;
        }
        targetT = Tensors.of(target, rows);
    }

    @Benchmark
    public float[] kernelForwardBackward() {
        Softmax.crossEntropy(loss, 0, stats, 0, x, 0, target, 0, rows, classes);
        Softmax.crossEntropyBackward(out, 0, x, 0, stats, 0, target, 0, ones, 0, rows, classes);
        return out;
    }

    @Benchmark
    public float[] kernelSoftmax() {
        Softmax.softmax(out, 0, x, 0, rows, classes, 1);
        return out;
    }

    @Benchmark
    public Tensor engineForwardBackward() {
        xt.setGrad(null);
        Losses.crossEntropy(xt, targetT).backward();
        return xt.grad();
    }
}
