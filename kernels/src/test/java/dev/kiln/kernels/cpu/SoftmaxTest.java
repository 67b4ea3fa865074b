package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefSoftmax;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    private static final int X_OFF = 3;
    private static final int OUT_OFF = 5;
    private static final int G_OFF = 1;
    private static final float GUARD = 11.5f;

    private static String name(String kernel, int[] s) {
        return kernel + " (outer " + s[0] + ", n " + s[1] + ", inner " + s[2] + ")";
    }

    private static float[] uniform(SplittableRandom rnd, int off, int[] s, double lo, double hi) {
        float[] a = new float[off + s[0] * s[1] * s[2] + 2];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(lo, hi);
        }
        return a;
    }

    private static float[] guarded(int[] s) {
        float[] a = new float[OUT_OFF + s[0] * s[1] * s[2] + 3];
        Arrays.fill(a, GUARD);
        return a;
    }

    /** TestArrays.assertClose, with the softmax group of the first bad index added to the message. */
    private static void assertClose(String what, float[] got, double[] want, double atol, double rtol, float[] x,
                                    int xOff, int[] s) {
        try {
            TestArrays.assertClose(what, got, want, atol, rtol);
        } catch (AssertionError e) {
            int bad = 0;
            while (Double.compare(got[bad], want[bad]) == 0
                    || Math.abs(got[bad] - want[bad]) <= atol + rtol * Math.abs(want[bad])) {
                bad++;
            }
            int k = bad - OUT_OFF;
            int group = k < 0 || k >= s[0] * s[1] * s[2] ? -1 : k / (s[1] * s[2]) * s[2] + k % s[2];
            throw new AssertionError(e.getMessage() + "; inputs: " + ReduceTest.group(x, xOff, s, group), e);
        }
    }

    @Test
    void forwardMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(10);
        for (int[] s : ReduceTest.shapes()) {
            float[] x = uniform(rnd, X_OFF, s, -10, 10);
            double[] xd = TestArrays.toDouble(x);
            float[] out = guarded(s);
            double[] want = TestArrays.toDouble(out);
            Softmax.softmax(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
            RefSoftmax.softmax(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
            assertClose(name("softmax", s), out, want, 1e-8, 1e-6, x, X_OFF, s);
            Softmax.logSoftmax(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
            RefSoftmax.logSoftmax(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
            assertClose(name("logSoftmax", s), out, want, 2e-6, 1e-6, x, X_OFF, s);
        }
    }

    @Test
    void backwardMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int[] s : ReduceTest.shapes()) {
            float[] x = uniform(rnd, 0, s, -5, 5);
            float[] gy = uniform(rnd, G_OFF, s, -1, 1);
            double[] gyd = TestArrays.toDouble(gy);
            float[] y = new float[x.length + X_OFF];
            Softmax.softmax(y, X_OFF, x, 0, s[0], s[1], s[2]);
            float[] gx = guarded(s);
            double[] want = TestArrays.toDouble(gx);
            Softmax.softmaxBackward(gx, OUT_OFF, y, X_OFF, gy, G_OFF, s[0], s[1], s[2]);
            RefSoftmax.softmaxBackward(want, OUT_OFF, TestArrays.toDouble(y), X_OFF, gyd, G_OFF, s[0], s[1], s[2]);
            assertClose(name("softmaxBackward", s), gx, want, 1e-7, 1e-5, gy, G_OFF, s);

            Softmax.logSoftmax(y, X_OFF, x, 0, s[0], s[1], s[2]);
            Softmax.logSoftmaxBackward(gx, OUT_OFF, y, X_OFF, gy, G_OFF, s[0], s[1], s[2]);
            RefSoftmax.logSoftmaxBackward(want, OUT_OFF, TestArrays.toDouble(y), X_OFF, gyd, G_OFF, s[0], s[1],
                    s[2]);
            assertClose(name("logSoftmaxBackward", s), gx, want, 1e-6, 1e-5, gy, G_OFF, s);
        }
    }

    @Test
    void groupsSumToOneAndLargeLogitsStayFinite() {
        SplittableRandom rnd = new SplittableRandom(12);
        int[][] shapes = {{4, 37, 1}, {2, 37, 21}};
        for (int[] s : shapes) {
            float[] x = uniform(rnd, 0, s, 900, 1000);
            float[] y = new float[x.length];
            Softmax.softmax(y, 0, x, 0, s[0], s[1], s[2]);
            for (int o = 0; o < s[0]; o++) {
                for (int i = 0; i < s[2]; i++) {
                    double sum = 0;
                    for (int j = 0; j < s[1]; j++) {
                        float v = y[(o * s[1] + j) * s[2] + i];
                        assertTrue(v >= 0 && v <= 1, name("softmax", s) + " value " + v);
                        sum += v;
                    }
                    assertEquals(1.0, sum, 1e-6, name("softmax", s) + " group (" + o + ", " + i + ")");
                }
            }
            Softmax.logSoftmax(y, 0, x, 0, s[0], s[1], s[2]);
            for (int k = 0; k < s[0] * s[1] * s[2]; k++) {
                assertTrue(y[k] <= 0 && y[k] > -200, name("logSoftmax", s) + " value " + y[k] + " at " + k);
            }
        }
    }

    @Test
    void handComputedValues() {
        float[] y = new float[3];
        Softmax.softmax(y, 0, new float[] {0, (float) Math.log(2), (float) Math.log(5)}, 0, 1, 3, 1);
        assertEquals(0.125f, y[0], 1e-7f);
        assertEquals(0.25f, y[1], 1e-7f);
        assertEquals(0.625f, y[2], 1e-7f);
        Softmax.logSoftmax(y, 0, new float[] {1, 1, 1, 1}, 0, 1, 1, 3);
        assertEquals(0f, y[0]);
        float[] z = new float[4];
        Softmax.softmax(z, 0, new float[] {1, Float.NaN, 3, 4}, 0, 2, 2, 1);
        assertTrue(Float.isNaN(z[0]) && Float.isNaN(z[1]));
        assertEquals(1 / (1 + Math.exp(1)), z[2], 1e-7);
        float[] gx = new float[2];
        Softmax.softmaxBackward(gx, 0, new float[] {0.25f, 0.75f}, 0, new float[] {1, 0}, 0, 1, 2, 1);
        assertEquals(0.25f * 0.75f, gx[0], 1e-7f);
        assertEquals(-0.25f * 0.75f, gx[1], 1e-7f);
    }

    @Test
    void emptyGroupsAndBadArguments() {
        Softmax.softmax(new float[0], 0, new float[0], 0, 3, 0, 2);
        Softmax.logSoftmaxBackward(new float[0], 0, new float[0], 0, new float[0], 0, 0, 4, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Softmax.softmaxBackward(new float[8], 0, new float[8], 0, new float[7], 0, 2, 4, 1));
        assertEquals("softmaxBackward: gy too small: need 8 elements from offset 0, has 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RefSoftmax.logSoftmax(new double[8], 2, new double[8], 0, 2, 4, 1));
        assertEquals("logSoftmax: out too small: need 8 elements from offset 2, has 8", e.getMessage());
    }

    /** Fused cross-entropy forward and backward against the double reference, at tail sizes, with offsets. */
    @Test
    void crossEntropyMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(77);
        for (int rows : new int[] {1, 3, 64}) {
            for (int n : new int[] {1, 2, 10, 15, 16, 17, 35, 1000}) {
                float[] x = new float[X_OFF + rows * n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextDouble(-30, 30);
                }
                long[] t = new long[2 + rows];
                for (int r = 0; r < rows; r++) {
                    t[2 + r] = rnd.nextInt(n);
                }
                float[] g = new float[G_OFF + rows];
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) rnd.nextDouble(-2, 2);
                }
                float[] loss = new float[OUT_OFF + rows];
                float[] stats = new float[2 * rows];
                Softmax.crossEntropy(loss, OUT_OFF, stats, 0, x, X_OFF, t, 2, rows, n);
                double[] xd = TestArrays.toDouble(x);
                double[] lossD = new double[OUT_OFF + rows];
                double[] statsD = new double[2 * rows];
                RefSoftmax.crossEntropy(lossD, OUT_OFF, statsD, 0, xd, X_OFF, t, 2, rows, n);
                String what = "crossEntropy rows " + rows + ", n " + n;
                TestArrays.assertClose(what, loss, lossD, 1e-5, 1e-5);
                float[] gx = guardedFlat(OUT_OFF + rows * n);
                Softmax.crossEntropyBackward(gx, OUT_OFF, x, X_OFF, stats, 0, t, 2, g, G_OFF, rows, n);
                double[] gxD = new double[OUT_OFF + rows * n];
                Arrays.fill(gxD, GUARD);
                RefSoftmax.crossEntropyBackward(gxD, OUT_OFF, xd, X_OFF, statsD, 0, t, 2, TestArrays.toDouble(g), G_OFF,
                        rows, n);
                TestArrays.assertClose(what + " backward", gx, gxD, 1e-6, 1e-5);
            }
        }
    }

    @Test
    void crossEntropyRejectsATargetOutOfRange() {
        float[] x = new float[6];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                Softmax.crossEntropy(new float[2], 0, new float[4], 0, x, 0, new long[] {1, 3}, 0, 2, 3));
        assertEquals("crossEntropy: expected target indices in [0, 3), got 3 in row 1", e.getMessage());
    }

    private static float[] guardedFlat(int length) {
        float[] a = new float[length];
        Arrays.fill(a, GUARD);
        return a;
    }
}
