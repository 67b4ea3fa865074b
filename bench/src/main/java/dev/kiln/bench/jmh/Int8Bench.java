package dev.kiln.bench.jmh;

import dev.kiln.bench.BenchData;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.Gemm;
import dev.kiln.kernels.cpu.QGemm;
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
 * The int8 GEMM as a Linear layer {@code y[batch, out] = x[batch, in] W^T} with per-channel int8
 * weights: the fp32 GEMM it replaces, the int8 GEMM with its dequantizing and requantizing
 * epilogues (x already quantized; the weight as plain bytes, and prepacked by
 * {@link QGemm#packWeights}), and the whole dynamic Linear (choose x's parameters, quantize,
 * GEMM + dequantize; prepacked weight) and its two quantization steps alone, at the MLP's and a
 * 1024-wide layer's shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class Int8Bench {
    @Param({"1", "64", "256"})
    public int batch;

    @Param({"784x300", "1024x1024"})
    public String shape;

    @Param({"1"})
    public int threads;

    private int in;
    private int out;
    private float[] x;
    private float[] w;
    private float[] y;
    private float[] bias;
    private float[] scales;
    private byte[] xq;
    private byte[] wq;
    private QGemm.PackedWeights packed;
    private byte[] yq;
    private QGemm.QParams qx;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        String[] io = shape.split("x");
        in = Integer.parseInt(io[0]);
        out = Integer.parseInt(io[1]);
        x = BenchData.random(batch * in, 1);
        w = BenchData.random(out * in, 2);
        bias = BenchData.random(out, 3);
        y = new float[batch * out];
        scales = new float[out];
        java.util.Arrays.fill(scales, 1f / 127);
        wq = new byte[out * in];
        QGemm.quantizeRows(wq, 0, in, false, w, 0, in, scales, null, out, in);
        packed = QGemm.packWeights(wq, 0, in, out, in);
        xq = new byte[batch * in];
        yq = new byte[batch * out];
        qx = QGemm.dynamicQParams(x, 0, batch * in);
        QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, qx.scale(), qx.zeroPoint());
    }

    /** The fp32 GEMM of the same Linear (the baseline the int8 path is measured against). */
    @Benchmark
    public float[] fp32() {
        Gemm.sgemm(false, y, 0, out, false, x, 0, in, true, w, 0, in, batch, out, in);
        return y;
    }

    @Benchmark
    public float[] gemmDequant() {
        QGemm.gemmDequant(y, 0, out, xq, 0, in, true, qx.zeroPoint(), qx.scale(), wq, 0, in, scales, bias,
                batch, out, in);
        return y;
    }

    @Benchmark
    public float[] gemmDequantPacked() {
        QGemm.gemmDequant(y, 0, out, xq, 0, in, true, qx.zeroPoint(), qx.scale(), packed, scales, bias, batch);
        return y;
    }

    @Benchmark
    public byte[] gemmRequantRelu() {
        QGemm.gemmRequant(yq, 0, out, true, 0, 0.05f, xq, 0, in, true, qx.zeroPoint(), qx.scale(), wq, 0, in,
                scales, bias, true, batch, out, in);
        return yq;
    }

    /**
     * {@link #dynamicLinear} with x quantized to {@code [0, 127]}, as PyTorch's dynamic Linear
     * quantizes it ({@code reduce_range}): on AVX2 machines without VNNI, the byte kernel.
     */
    @Benchmark
    public float[] dynamicLinearReduceRange() {
        QGemm.QParams q = QGemm.dynamicQParams(x, 0, batch * in, true);
        QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, q.scale(), q.zeroPoint());
        QGemm.gemmDequant(y, 0, out, xq, 0, in, true, q.zeroPoint(), q.scale(), packed, scales, bias, batch);
        return y;
    }

    /** Choosing x's parameters alone: the min/max pass of {@link #dynamicLinear}. */
    @Benchmark
    public QGemm.QParams chooseParams() {
        return QGemm.dynamicQParams(x, 0, batch * in, true);
    }

    /** Quantizing x alone (uint8, the parameters chosen once in the setup). */
    @Benchmark
    public byte[] quantize() {
        QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, qx.scale(), qx.zeroPoint());
        return xq;
    }

    /** Dynamic quantization of x each call, then the GEMM with its dequantizing epilogue. */
    @Benchmark
    public float[] dynamicLinear() {
        QGemm.QParams q = QGemm.dynamicQParams(x, 0, batch * in);
        QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, q.scale(), q.zeroPoint());
        QGemm.gemmDequant(y, 0, out, xq, 0, in, true, q.zeroPoint(), q.scale(), packed, scales, bias, batch);
        return y;
    }
}
