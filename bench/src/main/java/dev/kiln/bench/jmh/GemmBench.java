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

/** Square fp32 GEMM, C = A * op(B); divide 2*n^3 by the reported time for GFLOP/s. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {
    @Param({"128", "256", "512", "1024", "2048"})
    public int n;

    @Param({"false", "true"})
    public boolean transB;

    @Param({"1"})
    public int threads;

    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        a = BenchData.random(n * n, 1);
        b = BenchData.random(n * n, 2);
        c = new float[n * n];
    }

    @Benchmark
    public float sgemm() {
        Gemm.sgemm(false, c, 0, n, false, a, 0, n, transB, b, 0, n, n, n, n);
        return c[0];
    }
}
