package dev.kiln.bench.jmh;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.Conv;
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
 * conv2d layers at batch 64: LeNet-5's two (28x28 input), Kiln's small VGG (the {@code cnn} model
 * on 28x28: 1->32, 32->32 at 28x28, 32->64, 64->64 at 14x14) and a CIFAR-style VGG (32x32 input:
 * 3->32, 32->64 at 16x16, 64->128 at 8x8). Through the engine: {@code forward} and
 * {@code forwardBackward} (gradients of input, weight and bias); on the kernels, each pass alone:
 * {@code kernelForward}, {@code kernelInputGradient}, {@code kernelWeightGradient} (with the bias
 * gradient). Layer: "C-OC-HW-K-PAD". The forks enable native access, so the passes use the generated
 * x86 transposes where they can run, as {@code ./kiln} does; the Vector API transposes for comparison:
 * {@code ./kiln jmh ConvBench -jvmArgsPrepend -Dkiln.transpose.jit=false}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConvBench {
    @Param({"1-6-28-5-2", "6-16-14-5-0", "1-32-28-3-1", "32-32-28-3-1", "32-64-14-3-1", "64-64-14-3-1",
            "3-32-32-3-1", "32-64-16-3-1", "64-128-8-3-1"})
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
    private ConvGeom geom;
    private float[] xa;
    private float[] wa;
    private float[] ba;
    private float[] ya;
    private float[] gya;
    private float[] gxa;
    private float[] gwa;
    private float[] gba;

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
        geom = new ConvGeom(batch, c, hw, hw, oc, k, k, 1, 1, pad, pad, 1, 1, 1);
        xa = x.toFloatArray();
        wa = w.toFloatArray();
        ba = b.toFloatArray();
        gya = Tensors.randn(g, batch, oc, o, o).toFloatArray();
        ya = new float[gya.length];
        gxa = new float[xa.length];
        gwa = new float[wa.length];
        gba = new float[oc];
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

    @Benchmark
    public float[] kernelForward() {
        Conv.conv2d(ya, xa, wa, ba, geom);
        return ya;
    }

    @Benchmark
    public float[] kernelInputGradient() {
        Conv.conv2dBackwardInput(gxa, gya, wa, geom);
        return gxa;
    }

    @Benchmark
    public float[] kernelWeightGradient() {
        Conv.conv2dBackwardWeight(gwa, gba, xa, gya, geom);
        return gwa;
    }
}
