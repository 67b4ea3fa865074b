package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvDirect} (and {@link ConvRows}, {@link ConvFlat}) against the scalar reference on geometries that exercise its tails: reductions
 * deeper than one slice, groups, dilation, stride (weight gradient), positions per image that are
 * not a multiple of 8 or deeper than a slice, runs of images with a shorter last run; every result
 * bitwise the same for 1, 2 and 3 threads, and {@code Conv} returning the same bits where it routes here.
 */
class ConvDirectTest {
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;
    /** ConvDirect's and ConvFlat's kernels are 8 rows by two vectors: they run where the GEMM's tiles are 8 rows high. */
    private static final boolean EIGHT_ROWS = GemmMicro.MR == 8;
    private static final String EIGHT_ROWS_ONLY = "8-row conv kernels: 32 vector registers (AVX-512) only";

    private static ConvGeom geom(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw,
                                 int ph, int pw, int dh, int dw, int groups) {
        return new ConvGeom(n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups);
    }

    @Test
    void passesMatchReferenceForAnyThreadCount() {
        ConvGeom[] gs = {
                geom(3, 8, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 40, 5, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 32, 5, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 64, 4, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                geom(2, 32, 8, 8, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1),
                geom(3, 8, 9, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                geom(11, 16, 5, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 8, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 32, 12, 16, 32, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 16, 6, 16, 64, 3, 1, 1, 1, 1, 0, 1, 1, 1),
                // rows of 7 (ConvMicro.kernel7): the small VGG's 14- and 28-wide layers, 7x7, 21 with a stride in height
                geom(2, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 32, 6, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(3, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                geom(2, 32, 9, 21, 32, 3, 3, 2, 1, 1, 1, 1, 1, 1),
                // rows of 10 by one vector of channels (ConvMicro.kernel10): LeNet-5's 6 -> 16, an input gradient
                // over 10-wide rows of 16 channels, groups with a deep reduction cut into slices
                geom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 16, 6, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 96, 5, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                // 16 registers: rows of 5 outputs (forward), kernel rows of 5 taps (weight gradient)
                geom(3, 8, 9, 24, 16, 5, 5, 2, 1, 2, 2, 1, 1, 1), // stride 2 down, 5 taps across
                geom(2, 12, 14, 14, 32, 5, 5, 1, 1, 0, 0, 2, 1, 2), // dilated down, groups of 6 -> 16
                geom(5, 3, 12, 12, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1)}; // 3 input channels, padding 2
        SplittableRandom rnd = new SplittableRandom(17);
        int exercised = 0;
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] yr = new double[(int) g.ySize()];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), toDouble(bias), g);
                double[] gxr = new double[(int) g.xSize()];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                double[] gwr = new double[(int) g.wSize()];
                double[] gbr = new double[g.oc()];
                RefConv.conv2dBackwardWeight(gwr, gbr, toDouble(x), toDouble(gy), g);
                float[][] first = null;
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = nans(yr.length);
                    float[] gx = nans(gxr.length);
                    float[] gw = nans(gwr.length);
                    float[] gb = nans(gbr.length);
                    boolean fwd = ConvDirect.canForward(g) && ConvDirect.conv2d(y, x, w, bias, g);
                    boolean in = ConvDirect.suitsInput(g) && ConvDirect.conv2dBackwardInput(false, gx, gy, w, g);
                    boolean wt = ConvDirect.suitsWeight(g) && ConvDirect.conv2dBackwardWeight(gw, gb, x, gy, g);
                    if (fwd) {
                        assertClose("direct conv2d " + g, y, yr, ATOL, RTOL);
                        if (ConvDirect.suitsForward(g) && !Conv.winogradForward(g)) { // else the Winograd tests
                            assertArrayEquals(y, routed(yr.length, out -> Conv.conv2d(out, x, w, bias, g)), "Conv routes " + g);
                        }
                    }
                    if (in) {
                        assertClose("direct conv2dBackwardInput " + g, gx, gxr, ATOL, RTOL);
                        if (!Conv.winogradInput(g)) {
                            assertArrayEquals(gx, routed(gxr.length, out -> Conv.conv2dBackwardInput(out, gy, w, g)),
                                    "Conv routes the input gradient " + g);
                        }
                    }
                    if (wt) {
                        assertClose("direct conv2dBackwardWeight " + g, gw, gwr, ATOL, RTOL);
                        assertClose("direct bias gradient " + g, gb, gbr, ATOL, RTOL);
                        if (!Conv.winogradWeight(g)) { // else ConvWinogradF4Test
                            assertArrayEquals(gw, routed(gwr.length, out -> Conv.conv2dBackwardWeight(out, null, x, gy, g)),
                                    "Conv routes the weight gradient " + g);
                        }
                        float[] gbRouted = nans(gbr.length);
                        float[] gwRouted = routed(gwr.length, out -> Conv.conv2dBackwardWeight(out, gbRouted, x, gy, g));
                        if (!Conv.winogradWeight(g)) {
                            assertArrayEquals(gw, gwRouted, "Conv routes the weight gradient with the bias " + g);
                            assertArrayEquals(gb, gbRouted, "Conv routes the bias gradient " + g);
                        } else {
                            assertClose("routed bias gradient " + g, gbRouted, gbr, ATOL, RTOL);
                        }
                    }
                    exercised += (fwd ? 1 : 0) + (in ? 1 : 0) + (wt ? 1 : 0);
                    if (first == null) {
                        first = new float[][]{y, gx, gw, gb};
                    } else {
                        assertArrayEquals(first[0], y, "direct conv2d, " + t + " threads vs 1: " + g);
                        assertArrayEquals(first[1], gx, "direct input gradient, " + t + " threads vs 1: " + g);
                        assertArrayEquals(first[2], gw, "direct weight gradient, " + t + " threads vs 1: " + g);
                        assertArrayEquals(first[3], gb, "direct bias gradient, " + t + " threads vs 1: " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
        // 8 rows: most passes of most geometries; 16 registers: forward rows of 5 and 5-tap weight rows
        assertTrue(Simd.SCALAR || exercised >= 3 * (EIGHT_ROWS ? 15 : 10), "direct passes exercised: " + exercised);
    }

    /**
     * {@link ConvRows}: LeNet-5's 6 -> 16 layer, a second channel tile that is mostly empty, rows that
     * do not fill a tile, groups, dilation and uneven padding; bitwise the same for any thread count.
     */
    @Test
    void narrowInputGradientMatchesReference() {
        int l = Simd.lanesF();
        // LeNet-5's 14-wide input where the rows fit the vectors (16 lanes), else as wide as they go
        int lenetW = 14 <= l && 2 * 14 >= l ? 14 : Math.max(1, l - 2);
        ConvGeom[] gs = {
                geom(3, 6, 14, lenetW, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 8, 9, Math.max(1, l - 4), 5, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 12, 7, l, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2),
                geom(2, 3, 10, Math.max(1, l / 2 + 1), 7, 5, 3, 1, 1, 1, 0, 1, 1, 1)};
        SplittableRandom rnd = new SplittableRandom(19);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(Simd.SCALAR || ConvRows.suits(g), "ConvRows suits " + g);
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] gxr = new double[(int) g.xSize()];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                float[] first = null;
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] gx = nans(gxr.length);
                    if (!ConvRows.suits(g) || !ConvRows.conv2dBackwardInput(false, gx, gy, w, g)) {
                        continue;
                    }
                    assertClose("rows conv2dBackwardInput " + g, gx, gxr, ATOL, RTOL);
                    assertArrayEquals(gx, routed(gxr.length, out -> Conv.conv2dBackwardInput(out, gy, w, g)),
                            "Conv routes the input gradient " + g);
                    if (first == null) {
                        first = gx;
                    } else {
                        assertArrayEquals(first, gx, "rows input gradient, " + t + " threads vs 1: " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * {@link ConvFlat}: LeNet-5's 6 -> 16 layer, padding, dilation, groups, output channels that do
     * not fill a tile, reductions deeper than one slice; bitwise the same for 1, 2 and 3 threads.
     */
    @Test
    void flattenedForwardMatchesReferenceAndPacked() {
        assumeTrue(Simd.SCALAR || EIGHT_ROWS, EIGHT_ROWS_ONLY);
        ConvGeom[] gs = {
                geom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 3, 9, 11, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 4, 10, 7, 16, 3, 3, 1, 1, 2, 1, 2, 1, 2),
                geom(2, 40, 5, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)};
        SplittableRandom rnd = new SplittableRandom(23);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(Simd.SCALAR || ConvFlat.routed(g), "ConvFlat takes " + g);
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                double[] yr = new double[(int) g.ySize()];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), toDouble(bias), g);
                float[] first = null;
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = nans(yr.length);
                    if (!ConvFlat.suits(g) || !ConvFlat.conv2d(y, x, w, bias, g)) {
                        continue;
                    }
                    assertClose("flat conv2d " + g, y, yr, ATOL, RTOL);
                    assertArrayEquals(y, routed(yr.length, out -> Conv.conv2d(out, x, w, bias, g)), "Conv routes " + g);
                    if (first == null) {
                        first = y;
                    } else {
                        assertArrayEquals(first, y, "flat conv2d, " + t + " threads vs 1: " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * {@code Conv.conv2dBackwardInput(true, ...)} adds the gradient to what {@code gx} holds, the same
     * bits as writing it and adding: through {@link ConvDirect} (a second channel block, groups),
     * {@link ConvRows} (adding per row) and the lowered path, for 1 and 2 threads; and close to the reference.
     */
    @Test
    void inputGradientAccumulates() {
        ConvGeom[] gs = {
                geom(3, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 64, 4, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                geom(2, 32, 5, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 16, 4, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 3, 9, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1)};
        SplittableRandom rnd = new SplittableRandom(29);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                float[] gx0 = randomFloats(rnd, (int) g.xSize());
                double[] ref = new double[gx0.length];
                RefConv.conv2dBackwardInput(ref, toDouble(gy), toDouble(w), g);
                for (int i = 0; i < ref.length; i++) {
                    ref[i] += gx0[i];
                }
                for (int t : new int[]{1, 2}) {
                    Parallel.setThreads(t);
                    float[] written = nans(gx0.length);
                    Conv.conv2dBackwardInput(written, gy, w, g);
                    float[] expected = gx0.clone();
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] += written[i];
                    }
                    float[] gx = gx0.clone();
                    Conv.conv2dBackwardInput(true, gx, gy, w, g);
                    assertArrayEquals(expected, gx, "accumulated input gradient, " + t + " threads: " + g);
                    assertClose("accumulated input gradient " + g, gx, ref, ATOL, RTOL);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    private interface Fill {
        void into(float[] out);
    }

    private static float[] routed(int n, Fill f) {
        float[] out = nans(n);
        f.into(out);
        return out;
    }
}
