package dev.kiln.bench.jmh;

import dev.kiln.bench.BenchData;
import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.cpu.Gemm;
import dev.kiln.kernels.cpu.Sparse;
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
 * A pruned Linear layer {@code y[batch, n] = x[batch, n] W^T}: dense fp32 GEMM against CSR
 * (magnitude-pruned) and 4x1 block-sparse weights at the same sparsity. Needs native access for
 * the sparse kernels' aligned panels (as {@code kiln bench} runs them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SparseBench {
    @Param({"1", "64", "256"})
    public int batch;

    @Param({"1024"})
    public int n;

    @Param({"0.9", "0.95"})
    public double sparsity;

    @Param({"1", "2"})
    public int threads;

    private float[] x;
    private float[] w;
    private float[] y;
    private SparseCsr csr;
    private BlockSparse block;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        x = BenchData.random(batch * n, 8);
        w = BenchData.random(n * n, 9);
        y = new float[batch * n];
        csr = SparseCsr.fromDense(w, 0, n, n, BenchData.magnitudeThreshold(w, sparsity));
        block = BlockSparse.fromDense(BenchData.blockPruned(w, n, n, 4, sparsity), 0, n, n, 4, 1, 0f);
    }

    @Benchmark
    public float[] dense() {
        Gemm.sgemm(false, y, 0, n, false, x, 0, n, true, w, 0, n, batch, n, n);
        return y;
    }

    @Benchmark
    public float[] csr() {
        Sparse.spmmCsr(y, 0, n, csr, x, 0, n, batch, false);
        return y;
    }

    @Benchmark
    public float[] block4x1() {
        Sparse.spmmBlock(y, 0, n, block, x, 0, n, batch, false);
        return y;
    }
}
