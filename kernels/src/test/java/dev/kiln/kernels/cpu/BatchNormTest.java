package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefBatchNorm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchNormTest {
    /** (n, c, s): [N, C] rows, vector tails, LeNet/VGG planes (7x7, 14x14, 28x28), one value per channel. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {2, 3, 1}, {64, 5, 1}, {5, 4, 7}, {3, 2, 33}, {4, 6, 49}, {2, 3, 196}, {3, 2, 784}, {1, 2, 17},
        // [N, C] across the channels (BatchNormCols): whole vectors of channels and a tail
        {3, 16, 1}, {7, 37, 1}, {9, 48, 1},
    };

    private static String name(String what, int[] d, boolean affine) {
        return what + " (n " + d[0] + ", c " + d[1] + ", s " + d[2] + (affine ? ", affine" : "") + ")";
    }

    /** Values around {@code shift} with channel-dependent scale, so a one-pass variance would lose digits. */
    private static float[] input(SplittableRandom rnd, int[] d, double shift) {
        float[] x = new float[d[0] * d[1] * d[2]];
        for (int i = 0; i < x.length; i++) {
            int ch = i / d[2] % d[1];
            x[i] = (float) (shift + (ch + 1) * rnd.nextDouble(-1, 1));
        }
        return x;
    }

    private static float[] channelValues(SplittableRandom rnd, int c, double lo, double hi) {
        float[] a = new float[c];
        for (int i = 0; i < c; i++) {
            a[i] = (float) rnd.nextDouble(lo, hi);
        }
        return a;
    }

    @Test
    void trainingForwardMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int[] d : SHAPES) {
            for (boolean affine : new boolean[] {false, true}) {
                for (double shift : new double[] {0, 1000}) {
                    int c = d[1];
                    float[] x = input(rnd, d, shift);
                    float[] gamma = affine ? channelValues(rnd, c, 0.5, 2) : null;
                    float[] beta = affine ? channelValues(rnd, c, -1, 1) : null;
                    float[] y = new float[x.length];
                    float[] mean = new float[c];
                    float[] var = new float[c];
                    float[] invstd = new float[c];
                    BatchNorm.forwardTraining(y, mean, var, invstd, x, gamma, beta, 1e-5, d[0], c, d[2]);
                    double[] yr = new double[x.length];
                    double[] mr = new double[c];
                    double[] vr = new double[c];
                    double[] ir = new double[c];
                    RefBatchNorm.forwardTraining(yr, mr, vr, ir, TestArrays.toDouble(x), toDouble(gamma), toDouble(beta), 1e-5,
                            d[0], c, d[2]);
                    String n = name("forwardTraining", d, affine) + " shift " + shift;
                    TestArrays.assertClose(n + " mean", mean, mr, 0, 1e-7);
                    TestArrays.assertClose(n + " var", var, vr, 1e-12, 1e-6);
                    TestArrays.assertClose(n + " invstd", invstd, ir, 0, 1e-6);
                    // y = x*a + b in float, a = invstd*gamma: its rounding error scales with |x|*a
                    double a = max(ir) * (affine ? 2 : 1);
                    TestArrays.assertClose(n + " y", y, yr, 4e-7 * (shift + c) * a, 1e-5);
                }
            }
        }
    }

    @Test
    void evalForwardMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(4);
        for (int[] d : SHAPES) {
            int c = d[1];
            float[] x = input(rnd, d, 0);
            float[] mean = channelValues(rnd, c, -1, 1);
            float[] invstd = channelValues(rnd, c, 0.2, 3);
            float[] gamma = channelValues(rnd, c, 0.5, 2);
            float[] beta = channelValues(rnd, c, -1, 1);
            float[] y = new float[x.length];
            BatchNorm.forward(y, x, mean, invstd, gamma, beta, d[0], c, d[2]);
            double[] yr = new double[x.length];
            RefBatchNorm.forward(yr, TestArrays.toDouble(x), toDouble(mean), toDouble(invstd), toDouble(gamma), toDouble(beta),
                    d[0], c, d[2]);
            TestArrays.assertClose(name("forward", d, true), y, yr, 1e-5 * c, 1e-5);
        }
    }

    @Test
    void backwardMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int[] d : SHAPES) {
            for (boolean batchStats : new boolean[] {true, false}) {
                for (boolean affine : new boolean[] {false, true}) {
                    int c = d[1];
                    float[] x = input(rnd, d, 3);
                    float[] gy = input(rnd, d, 0.1);
                    float[] mean = new float[c];
                    float[] var = new float[c];
                    float[] invstd = new float[c];
                    BatchNorm.forwardTraining(new float[x.length], mean, var, invstd, x, null, null, 1e-5, d[0], c, d[2]);
                    float[] gamma = affine ? channelValues(rnd, c, 0.5, 2) : null;
                    float[] gx = new float[x.length];
                    float[] gGamma = new float[c];
                    float[] gBeta = new float[c];
                    BatchNorm.backward(gx, gGamma, gBeta, gy, x, mean, invstd, gamma, batchStats, d[0], c, d[2]);
                    double[] gxr = new double[x.length];
                    double[] ggr = new double[c];
                    double[] gbr = new double[c];
                    RefBatchNorm.backward(gxr, ggr, gbr, TestArrays.toDouble(gy), TestArrays.toDouble(x), toDouble(mean),
                            toDouble(invstd), toDouble(gamma), batchStats, d[0], c, d[2]);
                    String n = name("backward", d, affine) + (batchStats ? " batch stats" : " running stats");
                    double scale = max(gxr) + 1;
                    TestArrays.assertClose(n + " gx", gx, gxr, 2e-5 * scale * c, 1e-5);
                    TestArrays.assertClose(n + " gGamma", gGamma, ggr, 1e-5 * Math.sqrt(x.length) * c, 1e-5);
                    TestArrays.assertClose(n + " gBeta", gBeta, gbr, 1e-6 * x.length, 1e-6);
                }
            }
        }
    }

    /**
     * The fused ReLU: the forward passes store what batch norm then {@link Elementwise}'s ReLU give,
     * the backward pass what the ReLU's gradient ({@link GemmEpilogue#reluBackward}) then batch
     * norm's backward give, bit for bit, for batch and running statistics, on every path (row loops,
     * tails, across the channels), with NaN and -0 among the inputs, at 1 and 2 threads.
     */
    @Test
    void fusedReluGivesTheBitsOfBatchNormThenRelu() {
        SplittableRandom rnd = new SplittableRandom(11);
        int before = Parallel.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (int[] d : SHAPES) {
                    int n = d[0];
                    int c = d[1];
                    int s = d[2];
                    float[] x = input(rnd, d, 0);
                    x[x.length / 2] = Float.NaN;
                    x[x.length - 1] = -0f;
                    float[] gy = input(rnd, d, 0);
                    float[] gamma = channelValues(rnd, c, -2, 2);
                    float[] beta = channelValues(rnd, c, -1, 1);
                    for (boolean batchStats : new boolean[] {true, false}) {
                        String what = name(batchStats ? "training" : "eval", d, true) + " " + threads + " threads";
                        float[] mean = new float[c];
                        float[] var = new float[c];
                        float[] invstd = new float[c];
                        float[] plain = new float[x.length];
                        float[] fused = new float[x.length];
                        if (batchStats) {
                            BatchNorm.forwardTraining(plain, mean, var, invstd, x, gamma, beta, 1e-5, n, c, s);
                            BatchNorm.forwardTraining(fused, new float[c], new float[c], new float[c], x, gamma, beta, 1e-5,
                                    n, c, s, true);
                        } else {
                            mean = channelValues(rnd, c, -1, 1);
                            invstd = channelValues(rnd, c, 0.5, 2);
                            BatchNorm.forward(plain, x, mean, invstd, gamma, beta, n, c, s);
                            BatchNorm.forward(fused, x, mean, invstd, gamma, beta, n, c, s, true);
                        }
                        float[] relu = new float[x.length];
                        Elementwise.unary(dev.kiln.kernels.UnaryOp.RELU, relu, 0, plain, 0, x.length);
                        assertArrayEquals(relu, fused, what + " y");

                        float[] masked = new float[x.length];
                        GemmEpilogue.reluBackward(masked, 0, gy, 0, relu, 0, x.length);
                        float[] gx = new float[x.length];
                        float[] gw = new float[c];
                        float[] gb = new float[c];
                        BatchNorm.backward(gx, gw, gb, masked, x, mean, invstd, gamma, batchStats, n, c, s);
                        float[] fgx = new float[x.length];
                        float[] fgw = new float[c];
                        float[] fgb = new float[c];
                        BatchNorm.backward(fgx, fgw, fgb, gy, x, mean, invstd, gamma, batchStats, n, c, s, fused);
                        assertArrayEquals(gx, fgx, what + " grad x");
                        assertArrayEquals(gw, fgw, what + " grad gamma");
                        assertArrayEquals(gb, fgb, what + " grad beta");
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void invstdOfRunningVariance() {
        float[] var = {0f, 1f, 0.25f, 3f};
        float[] is = new float[4];
        BatchNorm.invstd(is, var, 1e-5, 4);
        double[] want = new double[4];
        for (int ch = 0; ch < 4; ch++) {
            want[ch] = 1 / Math.sqrt(var[ch] + 1e-5);
        }
        TestArrays.assertClose("invstd", is, want, 0, 1e-7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.invstd(new float[4], new float[3], 1e-5, 4));
        assertTrue(e.getMessage().contains("var") && e.getMessage().contains("4") && e.getMessage().contains("3"),
                e.getMessage());
    }

    @Test
    void nullOutputsAreSkipped() {
        SplittableRandom rnd = new SplittableRandom(6);
        int[] d = {3, 4, 20};
        float[] x = input(rnd, d, 0);
        float[] gy = input(rnd, d, 0);
        float[] mean = new float[4];
        float[] invstd = new float[4];
        BatchNorm.forwardTraining(new float[x.length], mean, new float[4], invstd, x, null, null, 1e-5, 3, 4, 20);
        float[] gx = new float[x.length];
        BatchNorm.backward(gx, null, null, gy, x, mean, invstd, null, true, 3, 4, 20);
        float[] gGamma = new float[4];
        BatchNorm.backward(null, gGamma, null, gy, x, mean, invstd, null, true, 3, 4, 20);
        float[] gxAll = new float[x.length];
        float[] gGammaAll = new float[4];
        BatchNorm.backward(gxAll, gGammaAll, new float[4], gy, x, mean, invstd, null, true, 3, 4, 20);
        assertArrayEquals(gxAll, gx);
        assertArrayEquals(gGammaAll, gGamma);
    }

    @Test
    void sameBitsForAnyThreadCount() {
        sameBitsForAnyThreadCount(new int[] {16, 24, 196});
        sameBitsForAnyThreadCount(new int[] {1024, 24, 1});
    }

    private static void sameBitsForAnyThreadCount(int[] d) {
        int before = Parallel.threads();
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = input(rnd, d, 0.5);
        float[] gy = input(rnd, d, 0);
        float[] gamma = channelValues(rnd, 24, 0.5, 2);
        float[] beta = channelValues(rnd, 24, -1, 1);
        float[][] first = null;
        try {
            for (int t : new int[] {1, 2, 3}) {
                Parallel.setThreads(t);
                float[] y = new float[x.length];
                float[] mean = new float[24];
                float[] var = new float[24];
                float[] invstd = new float[24];
                BatchNorm.forwardTraining(y, mean, var, invstd, x, gamma, beta, 1e-5, d[0], d[1], d[2]);
                float[] gx = new float[x.length];
                float[] gGamma = new float[24];
                float[] gBeta = new float[24];
                BatchNorm.backward(gx, gGamma, gBeta, gy, x, mean, invstd, gamma, true, d[0], d[1], d[2]);
                float[][] got = {y, mean, var, invstd, gx, gGamma, gBeta};
                if (first == null) {
                    first = got;
                } else {
                    for (int k = 0; k < got.length; k++) {
                        assertArrayEquals(first[k], got[k], "output " + k + " with " + t + " threads");
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void badInputIsRejectedWithWhatWasExpected() {
        float[] x = new float[24];
        float[] c4 = new float[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.forwardTraining(new float[24], c4, c4, new float[3], x, null, null, 1e-5, 2, 4, 3));
        assertTrue(e.getMessage().contains("invstd") && e.getMessage().contains("4") && e.getMessage().contains("3"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.forward(new float[20], x, c4, c4, null, null, 2, 4, 3));
        assertTrue(e.getMessage().contains("y"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.forwardTraining(new float[0], c4, c4, c4, new float[0], null, null, 1e-5, 0, 4, 3));
        assertTrue(e.getMessage().contains("at least one value"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.forwardTraining(new float[24], c4, c4, c4, x, null, null, -1, 2, 4, 3));
        assertTrue(e.getMessage().contains("eps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.backward(new float[24], null, null, new float[24], x, c4, c4, new float[2], true, 2, 4, 3));
        assertTrue(e.getMessage().contains("gamma"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.backward(new float[24], null, null, new float[24], x, c4, c4, null, true, -2, 4, 3));
        assertTrue(e.getMessage().contains("n -2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.backward(new float[24], null, null, new float[24], x, c4, c4, null, true, 2, 4, 3,
                        new float[23]));
        assertTrue(e.getMessage().contains("reluY") && e.getMessage().contains("23"), e.getMessage());
    }

    private static double[] toDouble(float[] a) {
        return a == null ? null : TestArrays.toDouble(a);
    }

    private static double max(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
