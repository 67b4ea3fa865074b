package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PoolTest {
    private static final double TOL = 1e-5;

    /** planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil (0/1). */
    private static List<int[]> windows() {
        List<int[]> cases = new ArrayList<>(List.of(
                new int[]{3, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 0},
                new int[]{2, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, 1},
                new int[]{3, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 0},
                new int[]{2, 7, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1},
                new int[]{2, 9, 10, 3, 2, 1, 2, 1, 1, 2, 3, 0},
                new int[]{1, 8, 9, 3, 3, 3, 2, 1, 0, 2, 1, 1},
                new int[]{4, 6, 5, 2, 3, 1, 1, 1, 1, 1, 1, 0},
                new int[]{70, 12, 12, 2, 2, 2, 2, 0, 0, 1, 1, 0},
                new int[]{5, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0}));
        int l = Simd.lanesF();
        for (int w : new int[]{1, Math.max(1, l - 1), l, l + 1, 2 * l + 3}) {
            cases.add(new int[]{2, 3, w, 2, 2, 1, 2, 1, 1, 1, 1, 1});
        }
        // the vectorized 2x2 stride-2 path: whole vectors of outputs, tails, odd sizes, ceil mode
        for (int w : new int[]{2 * l, 2 * l + 1, 2 * l + 2, 4 * l + 6, 28}) {
            cases.add(new int[]{3, 5, w, 2, 2, 2, 2, 0, 0, 1, 1, 0});
            cases.add(new int[]{2, 5, w, 2, 2, 2, 2, 0, 0, 1, 1, 1});
        }
        return cases;
    }

    /**
     * The 2x2 path stores a row's last partial step whole when the rows after it (in the same
     * thread's chunk of planes) overwrite the extra lanes: rows of 1 to 11 outputs, on 1 to 3
     * threads with enough planes for 3 chunks, against the reference, bit for bit.
     */
    @Test
    void maxPool2x2RowsSpillingIntoTheNextRowsMatchTheReferenceOnEveryThreadCount() {
        SplittableRandom rnd = new SplittableRandom(9);
        int l = Simd.lanesF();
        int before = Parallel.threads();
        try {
            for (int w : new int[] {2, 4, 6, 10, 2 * l + 2, 2 * l + 6}) {
                int h = 4;
                int oh = 2;
                int ow = w / 2;
                int planes = 3 * Math.max(1, (1 << 15) / (oh * ow * 4)) + 5;
                float[] x = randomFloats(rnd, planes * h * w);
                float[] yr = new float[planes * oh * ow];
                int[] idxr = new int[yr.length];
                double[] yd = new double[yr.length];
                RefPool.maxPool2d(yd, idxr, toDouble(x), planes, h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
                for (int i = 0; i < yd.length; i++) {
                    yr[i] = (float) yd[i];
                }
                for (int threads = 1; threads <= 3; threads++) {
                    Parallel.setThreads(threads);
                    float[] y = new float[yr.length];
                    int[] idx = new int[yr.length];
                    Pool.maxPool2d(y, idx, x, planes, h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
                    assertArrayEquals(yr, y, "values, width " + w + ", " + threads + " threads");
                    assertArrayEquals(idxr, idx, "argmax, width " + w + ", " + threads + " threads");
                    Arrays.fill(y, 0f);
                    Pool.maxPool2d(y, null, x, planes, h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
                    assertArrayEquals(yr, y, "values without argmax, width " + w + ", " + threads + " threads");
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Ties keep the first position, a NaN wins (the last one), -inf everywhere gives index -1, on both paths. */
    @Test
    void maxPool2x2SpecialValuesMatchTheReference() {
        int l = Simd.lanesF();
        int h = 4;
        int w = 2 * l + 6;
        float[] x = new float[2 * h * w];
        SplittableRandom rnd = new SplittableRandom(9);
        for (int i = 0; i < x.length; i++) {
            int kind = rnd.nextInt(6);
            x[i] = switch (kind) {
                case 0 -> Float.NaN;
                case 1 -> Float.NEGATIVE_INFINITY;
                case 2, 3 -> 1f;
                default -> (float) rnd.nextInt(3);
            };
        }
        for (int i = 0; i < 4; i++) {
            x[i] = Float.NEGATIVE_INFINITY;
            x[w + i] = Float.NEGATIVE_INFINITY;
        }
        int oh = h / 2;
        int ow = w / 2;
        float[] y = new float[2 * oh * ow];
        int[] idx = new int[y.length];
        Pool.maxPool2d(y, idx, x, 2, h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
        double[] yr = new double[y.length];
        int[] idxr = new int[y.length];
        RefPool.maxPool2d(yr, idxr, toDouble(x), 2, h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
        assertArrayEquals(idxr, idx, "argmax");
        assertEquals(-1, idx[0], "a window of -inf only");
        for (int i = 0; i < y.length; i++) {
            assertEquals(yr[i], y[i], 0.0, "max at " + i);
        }
    }

    /** PyTorch's pooling output size, ceil mode included. */
    private static int out(int size, int k, int s, int p, int d, boolean ceil) {
        int span = size + 2 * p - d * (k - 1) - 1;
        int o = (ceil ? Math.ceilDiv(span, s) : span / s) + 1;
        return ceil && (o - 1) * s >= size + p ? o - 1 : o;
    }

    @Test
    void maxPoolMatchesHandComputedCase() {
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) {
            x[i] = i + 1;
        }
        float[] y = new float[4];
        int[] idx = new int[4];
        Pool.maxPool2d(y, idx, x, 1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2);
        assertArrayEquals(new float[]{6, 8, 14, 16}, y);
        assertArrayEquals(new int[]{5, 7, 13, 15}, idx);

        float[] gx = new float[16];
        Pool.maxPool2dBackward(gx, new float[]{1, 2, 3, 4}, idx, 1, 4, 4, 2, 2);
        assertArrayEquals(new float[]{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}, gx);
    }

    @Test
    void maxPoolPaddingNeverWinsAndCeilWindowsAreClipped() {
        float[] x = {-5, -4, -3, -2, -1, -6, -7, -8, -9};
        float[] y = new float[4];
        int[] idx = new int[4];
        Pool.maxPool2d(y, idx, x, 1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2);
        assertArrayEquals(new float[]{-5, -3, -2, -1}, y);
        assertArrayEquals(new int[]{0, 2, 3, 4}, idx);

        float[] z = new float[25];
        for (int i = 0; i < 25; i++) {
            z[i] = i;
        }
        float[] yc = new float[9];
        Pool.maxPool2d(yc, null, z, 1, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, 3, 3);
        assertArrayEquals(new float[]{6, 8, 9, 16, 18, 19, 21, 23, 24}, yc);
    }

    @Test
    void maxPoolPropagatesNaNAndKeepsFirstOfTies() {
        float[] x = {1, Float.NaN, 7, 2, 3, 3, 3, 3};
        float[] y = new float[2];
        int[] idx = new int[2];
        Pool.maxPool2d(y, idx, x, 2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1);
        assertTrue(Float.isNaN(y[0]));
        assertEquals(1, idx[0]);
        assertEquals(3f, y[1]);
        assertEquals(0, idx[1]);
        double[] yr = new double[2];
        int[] idxr = new int[2];
        RefPool.maxPool2d(yr, idxr, toDouble(x), 2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1);
        assertTrue(Double.isNaN(yr[0]));
        assertArrayEquals(idx, idxr);
    }

    @Test
    void avgPoolMatchesHandComputedCases() {
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) {
            x[i] = i + 1;
        }
        float[] y = new float[4];
        Pool.avgPool2d(y, x, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, true);
        assertArrayEquals(new float[]{3.5f, 5.5f, 11.5f, 13.5f}, y);

        float[] x3 = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] incl = new float[9];
        float[] excl = new float[9];
        Pool.avgPool2d(incl, x3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3, true);
        Pool.avgPool2d(excl, x3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3, false);
        assertClose("count_include_pad", incl, new double[]{12 / 9.0, 21 / 9.0, 16 / 9.0, 27 / 9.0, 5, 33 / 9.0,
                24 / 9.0, 39 / 9.0, 28 / 9.0}, 1e-6, 1e-6);
        assertClose("exclude pad", excl, new double[]{3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}, 1e-6, 1e-6);

        float[] ceil = new float[4];
        Pool.avgPool2d(ceil, x3, 1, 3, 3, 2, 2, 2, 2, 0, 0, 2, 2, true);
        assertArrayEquals(new float[]{3, 4.5f, 7.5f, 9}, ceil);
    }

    @Test
    void adaptiveAvgPoolMatchesHandComputedBins() {
        float[] x = {1, 2, 3, 4, 5};
        float[] y = new float[3];
        Pool.adaptiveAvgPool2d(y, x, 1, 1, 5, 1, 3);
        assertArrayEquals(new float[]{1.5f, 3f, 4.5f}, y);
        float[] up = new float[4];
        Pool.adaptiveAvgPool2d(up, new float[]{2, 4}, 1, 1, 2, 1, 4);
        assertArrayEquals(new float[]{2, 2, 4, 4}, up);
        float[] gx = new float[5];
        Pool.adaptiveAvgPool2dBackward(gx, new float[]{2, 3, 4}, 1, 1, 5, 1, 3);
        assertArrayEquals(new float[]{1, 2, 1, 3, 2}, gx);
    }

    @Test
    void windowedPoolsMatchReference() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int[] k : windows()) {
            int planes = k[0], h = k[1], w = k[2], kh = k[3], kw = k[4], sh = k[5], sw = k[6];
            int ph = k[7], pw = k[8], dh = k[9], dw = k[10];
            boolean ceil = k[11] == 1;
            String what = Arrays.toString(k);
            float[] x = randomFloats(rnd, planes * h * w);
            double[] xd = toDouble(x);

            int oh = out(h, kh, sh, ph, dh, ceil);
            int ow = out(w, kw, sw, pw, dw, ceil);
            float[] y = new float[planes * oh * ow];
            int[] idx = new int[y.length];
            Pool.maxPool2d(y, idx, x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            double[] yr = new double[y.length];
            int[] idxr = new int[y.length];
            RefPool.maxPool2d(yr, idxr, xd, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            assertClose("maxPool2d " + what, y, yr, 0, 0);
            assertArrayEquals(idxr, idx, "maxPool2d argmax " + what);
            float[] gy = randomFloats(rnd, y.length);
            float[] gx = randomFloats(rnd, x.length);
            double[] gxr = toDouble(gx);
            Pool.maxPool2dBackward(gx, gy, idx, planes, h, w, oh, ow);
            RefPool.maxPool2dBackward(gxr, toDouble(gy), idxr, planes, h, w, oh, ow);
            assertClose("maxPool2dBackward " + what, gx, gxr, TOL, TOL);

            int ah = out(h, kh, sh, ph, 1, ceil);
            int aw = out(w, kw, sw, pw, 1, ceil);
            for (boolean cip : new boolean[]{true, false}) {
                float[] ya = new float[planes * ah * aw];
                Pool.avgPool2d(ya, x, planes, h, w, kh, kw, sh, sw, ph, pw, ah, aw, cip);
                double[] yar = new double[ya.length];
                RefPool.avgPool2d(yar, xd, planes, h, w, kh, kw, sh, sw, ph, pw, ah, aw, cip);
                assertClose("avgPool2d " + what + " cip " + cip, ya, yar, TOL, TOL);

                float[] gya = randomFloats(rnd, ya.length);
                float[] gxa = randomFloats(rnd, x.length);
                double[] gxar = toDouble(gxa);
                Pool.avgPool2dBackward(gxa, gya, planes, h, w, kh, kw, sh, sw, ph, pw, ah, aw, cip);
                RefPool.avgPool2dBackward(gxar, toDouble(gya), planes, h, w, kh, kw, sh, sw, ph, pw, ah, aw, cip);
                assertClose("avgPool2dBackward " + what + " cip " + cip, gxa, gxar, TOL, TOL);

                double[] back = new double[x.length];
                RefPool.avgPool2dBackward(back, toDouble(gya), planes, h, w, kh, kw, sh, sw, ph, pw, ah, aw, cip);
                assertNear("<avgPool(x), gy> vs <x, avgPoolBackward(gy)> " + what + " cip " + cip,
                        dot(yar, toDouble(gya)), dot(xd, back));
            }
        }
    }

    @Test
    void adaptivePoolMatchesReferenceAndIsAdjoint() {
        SplittableRandom rnd = new SplittableRandom(9);
        int l = Simd.lanesF();
        int[][] cases = {{3, 7, 7, 1, 1}, {2, 5, 7, 3, 2}, {2, 3, 2, 5, 7}, {1, 6, 6, 6, 6}, {70, 10, 9, 4, 3},
                {2, 4, 2 * l + 3, 2, l + 1}, {1, 1, 1, 2, 3}};
        for (int[] k : cases) {
            int planes = k[0], h = k[1], w = k[2], oh = k[3], ow = k[4];
            String what = Arrays.toString(k);
            float[] x = randomFloats(rnd, planes * h * w);
            double[] xd = toDouble(x);
            float[] y = new float[planes * oh * ow];
            Pool.adaptiveAvgPool2d(y, x, planes, h, w, oh, ow);
            double[] yr = new double[y.length];
            RefPool.adaptiveAvgPool2d(yr, xd, planes, h, w, oh, ow);
            assertClose("adaptiveAvgPool2d " + what, y, yr, TOL, TOL);

            float[] gy = randomFloats(rnd, y.length);
            float[] gx = randomFloats(rnd, x.length);
            double[] gxr = toDouble(gx);
            Pool.adaptiveAvgPool2dBackward(gx, gy, planes, h, w, oh, ow);
            RefPool.adaptiveAvgPool2dBackward(gxr, toDouble(gy), planes, h, w, oh, ow);
            assertClose("adaptiveAvgPool2dBackward " + what, gx, gxr, TOL, TOL);

            double[] back = new double[x.length];
            RefPool.adaptiveAvgPool2dBackward(back, toDouble(gy), planes, h, w, oh, ow);
            assertNear("<adaptive(x), gy> vs <x, adaptiveBackward(gy)> " + what, dot(yr, toDouble(gy)), dot(xd, back));
        }
    }

    @Test
    void kernelsRejectBadArguments() {
        float[] x = new float[32];
        assertRejects("maxPool2d: y too small: need 8 elements from offset 0, has 7",
                () -> Pool.maxPool2d(new float[7], null, x, 2, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2));
        assertRejects("maxPool2d: argmax too small",
                () -> Pool.maxPool2d(new float[8], new int[2], x, 2, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2));
        assertRejects("maxPool2d: expected kh, kw, sh, sw, dh, dw >= 1, got kh 2, kw 2, sh 0",
                () -> Pool.maxPool2d(new float[8], null, x, 2, 4, 4, 2, 2, 0, 2, 0, 0, 1, 1, 2, 2));
        assertRejects("avgPool2d: expected ph, pw >= 0, got ph -1",
                () -> Pool.avgPool2d(new float[8], x, 2, 4, 4, 2, 2, 2, 2, -1, 0, 2, 2, true));
        assertRejects("avgPool2dBackward: gx too small",
                () -> Pool.avgPool2dBackward(new float[3], new float[8], 2, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, true));
        assertRejects("adaptiveAvgPool2d: expected planes >= 0, h, w >= 1 and oh, ow >= 0, got planes 1, h 0",
                () -> Pool.adaptiveAvgPool2d(new float[4], x, 1, 0, 4, 2, 2));
        assertRejects("maxPool2dBackward: argmax too small",
                () -> RefPool.maxPool2dBackward(new double[32], new double[8], new int[1], 2, 4, 4, 2, 2));
    }

    private static void assertRejects(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expected),
                () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }

    private static void assertNear(String what, double expected, double actual) {
        assertTrue(Math.abs(expected - actual) <= 1e-9 * (1 + Math.abs(expected)),
                () -> what + ": " + expected + " vs " + actual + ", difference " + (expected - actual));
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
