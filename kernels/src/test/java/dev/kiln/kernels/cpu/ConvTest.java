package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvTest {
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    /** Geometries covering stride, padding, dilation, groups, 1x1, non-square shapes and vector tails. */
    private static List<ConvGeom> geometries() {
        List<ConvGeom> gs = new ArrayList<>(List.of(
                geom(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1),
                geom(3, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(3, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                geom(1, 2, 10, 11, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1),
                geom(3, 3, 8, 13, 4, 2, 5, 1, 2, 1, 2, 1, 1, 1),
                geom(3, 4, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                geom(3, 5, 9, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5),
                geom(1, 3, 6, 5, 6, 3, 2, 1, 1, 0, 1, 2, 1, 3),
                geom(3, 7, 6, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1),
                geom(1, 6, 4, 9, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2),
                geom(3, 5, 7, 7, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1),
                geom(1, 3, 5, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                geom(3, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                geom(2, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(1, 3, 1, 7, 7, 1, 3, 1, 1, 0, 1, 1, 1, 1),
                geom(1, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(3, 2, 8, 9, 3, 2, 2, 3, 3, 0, 1, 1, 1, 1),
                geom(1, 2, 9, 7, 2, 2, 3, 2, 1, 2, 0, 2, 3, 2)));
        int l = Simd.lanesF();
        for (int w : new int[]{1, Math.max(1, l - 1), l, l + 1, 2 * l + 3}) {
            gs.add(geom(2, 3, 3, w + 2, 2, 1, 3, 1, 1, 0, 0, 1, 1, 1));
            gs.add(geom(1, 2, 3, w, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        }
        return gs;
    }

    private static ConvGeom geom(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw,
                                 int ph, int pw, int dh, int dw, int groups) {
        return new ConvGeom(n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups);
    }

    private static int size(long n) {
        return Math.toIntExact(n);
    }

    @Test
    void forwardAndBothBackwardsMatchReference() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (ConvGeom g : geometries()) {
            float[] x = randomFloats(rnd, size(g.xSize()));
            float[] w = randomFloats(rnd, size(g.wSize()));
            float[] bias = randomFloats(rnd, g.oc());
            float[] gy = randomFloats(rnd, size(g.ySize()));
            for (float[] b : new float[][]{bias, null}) {
                float[] y = new float[size(g.ySize())];
                Arrays.fill(y, Float.NaN);
                Conv.conv2d(y, x, w, b, g);
                double[] yr = new double[y.length];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), b == null ? null : toDouble(b), g);
                assertClose("conv2d " + g + " bias " + (b != null), y, yr, ATOL, RTOL);
            }

            float[] gx = new float[size(g.xSize())];
            Arrays.fill(gx, Float.NaN);
            Conv.conv2dBackwardInput(gx, gy, w, g);
            double[] gxr = new double[gx.length];
            RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
            assertClose("conv2dBackwardInput " + g, gx, gxr, ATOL, RTOL);

            float[] gw = new float[size(g.wSize())];
            float[] gb = new float[g.oc()];
            Arrays.fill(gw, Float.NaN);
            Arrays.fill(gb, Float.NaN);
            Conv.conv2dBackwardWeight(gw, gb, x, gy, g);
            double[] gwr = new double[gw.length];
            double[] gbr = new double[g.oc()];
            RefConv.conv2dBackwardWeight(gwr, gbr, toDouble(x), toDouble(gy), g);
            assertClose("conv2dBackwardWeight gw " + g, gw, gwr, ATOL, RTOL);
            assertClose("conv2dBackwardWeight gb " + g, gb, gbr, ATOL, RTOL);

            float[] gwOnly = new float[gw.length];
            Conv.conv2dBackwardWeight(gwOnly, null, x, gy, g);
            assertArrayEquals(gw, gwOnly, "gw without gb " + g);
        }
    }

    @Test
    void referenceBackwardsAreAdjointsOfForward() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (ConvGeom g : geometries()) {
            double[] x = toDouble(randomFloats(rnd, size(g.xSize())));
            double[] w = toDouble(randomFloats(rnd, size(g.wSize())));
            double[] bias = toDouble(randomFloats(rnd, g.oc()));
            double[] gy = toDouble(randomFloats(rnd, size(g.ySize())));
            double[] y = new double[gy.length];
            RefConv.conv2d(y, x, w, null, g);
            double lhs = dot(y, gy);

            double[] gx = new double[x.length];
            RefConv.conv2dBackwardInput(gx, gy, w, g);
            assertNear("<conv(x), gy> vs <x, backwardInput(gy)> " + g, lhs, dot(x, gx));

            double[] gw = new double[w.length];
            double[] gb = new double[g.oc()];
            RefConv.conv2dBackwardWeight(gw, gb, x, gy, g);
            assertNear("<conv_w(x), gy> vs <w, backwardWeight(x, gy)> " + g, lhs, dot(w, gw));

            double[] yb = new double[gy.length];
            RefConv.conv2d(yb, x, w, bias, g);
            assertNear("<conv(x)+bias, gy> vs <w, gw> + <bias, gb> " + g, dot(yb, gy), lhs + dot(bias, gb));
        }
    }

    @Test
    void referenceForwardMatchesHandComputedCase() {
        double[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        double[] w = {1, 1, 1, 1, 1, 0, 0, -1};
        double[] y = new double[2 * 4];
        RefConv.conv2d(y, x, w, new double[]{0, 10}, geom(1, 1, 3, 3, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1));
        assertArrayEquals(new double[]{12, 16, 24, 28, 6, 6, 6, 6}, y);

        double[] yp = new double[9];
        double[] ones = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        RefConv.conv2d(yp, x, ones, null, geom(1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        assertArrayEquals(new double[]{12, 21, 16, 27, 45, 33, 24, 39, 28}, yp);
    }

    @Test
    void weightGradientIsDeterministicAndMatchesAcrossThreadCounts() {
        ConvGeom g = geom(7, 3, 9, 10, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = randomFloats(rnd, size(g.xSize()));
        float[] gy = randomFloats(rnd, size(g.ySize()));
        double[] gwr = new double[size(g.wSize())];
        RefConv.conv2dBackwardWeight(gwr, null, toDouble(x), toDouble(gy), g);
        int saved = Parallel.threads();
        try {
            for (int t : new int[]{1, 3, 4}) {
                Parallel.setThreads(t);
                float[] first = new float[gwr.length];
                float[] second = new float[gwr.length];
                Conv.conv2dBackwardWeight(first, null, x, gy, g);
                Conv.conv2dBackwardWeight(second, null, x, gy, g);
                assertArrayEquals(first, second, "deterministic with " + t + " threads");
                assertClose("gw with " + t + " threads", first, gwr, ATOL, RTOL);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * Batches that {@link ConvGemm} cuts into runs of several images sharing one GEMM (runs of
     * uneven size, uneven shares per thread): all three kernels match the reference, and forward
     * and input gradient are bitwise the same for any thread count.
     */
    @Test
    void multiImageRunsMatchReferenceForAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(5);
        ConvGeom[] gs = {
                geom(25, 3, 10, 10, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(13, 2, 9, 11, 9, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(11, 4, 8, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2),
                geom(9, 6, 7, 7, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1)};
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(ConvGemm.imagesPerRun(g) > 1, "several images per GEMM for " + g);
                float[] x = randomFloats(rnd, size(g.xSize()));
                float[] w = randomFloats(rnd, size(g.wSize()));
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, size(g.ySize()));
                double[] yr = new double[size(g.ySize())];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), toDouble(bias), g);
                double[] gxr = new double[size(g.xSize())];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                double[] gwr = new double[size(g.wSize())];
                RefConv.conv2dBackwardWeight(gwr, null, toDouble(x), toDouble(gy), g);
                float[] y1 = null;
                float[] gx1 = null;
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = new float[yr.length];
                    float[] gx = new float[gxr.length];
                    float[] gw = new float[gwr.length];
                    Arrays.fill(gx, Float.NaN);
                    Conv.conv2d(y, x, w, bias, g);
                    Conv.conv2dBackwardInput(gx, gy, w, g);
                    Conv.conv2dBackwardWeight(gw, null, x, gy, g);
                    assertClose("conv2d " + g + " threads " + t, y, yr, ATOL, RTOL);
                    assertClose("conv2dBackwardInput " + g + " threads " + t, gx, gxr, ATOL, RTOL);
                    assertClose("conv2dBackwardWeight " + g + " threads " + t, gw, gwr, ATOL, RTOL);
                    if (y1 == null) {
                        y1 = y;
                        gx1 = gx;
                    } else {
                        assertArrayEquals(y1, y, "conv2d with " + t + " threads vs 1: " + g);
                        assertArrayEquals(gx1, gx, "conv2dBackwardInput with " + t + " threads vs 1: " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * Where {@link ConvPacked#suitsInput} (5-row tiles: AVX2), {@code Conv} takes the input gradient
     * through the packed forward pass of the output gradient: the same bits, and when accumulating
     * the old gradient plus exactly those values; layers with much tile padding stay on GEMM + col2im.
     */
    @Test
    void inputGradientRoutesToThePackedPassOn16RegisterMachines() {
        org.junit.jupiter.api.Assumptions.assumeTrue(!Simd.SCALAR && GemmMicro.MR != 8, "routed only with 5-row tiles");
        ConvGeom routed = geom(2, 32, 12, 12, 24, 5, 5, 1, 1, 2, 2, 1, 1, 1); // 3x3 "same" layers take Winograd
        assertTrue(ConvPacked.suitsInput(routed) && !Conv.winogradInput(routed), "routed: " + routed);
        assertTrue(!ConvPacked.suitsInput(geom(64, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "14x14 with 32 channels pads 16%");
        assertTrue(!ConvPacked.suitsInput(geom(2, 32, 12, 12, 24, 5, 5, 2, 2, 2, 2, 1, 1, 1)), "stride 2");
        assertTrue(!ConvPacked.suitsInput(geom(2, 4, 12, 12, 24, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "fewer channels than a tile's rows");
        SplittableRandom rnd = new SplittableRandom(31);
        float[] w = randomFloats(rnd, size(routed.wSize()));
        float[] gy = randomFloats(rnd, size(routed.ySize()));
        float[] want = nans(size(routed.xSize()));
        assertTrue(ConvPacked.conv2dBackwardInput(want, gy, w, routed));
        float[] got = nans(want.length);
        Conv.conv2dBackwardInput(false, got, gy, w, routed);
        assertArrayEquals(want, got, "routed input gradient");
        float[] old = randomFloats(rnd, want.length);
        float[] acc = old.clone();
        Conv.conv2dBackwardInput(true, acc, gy, w, routed);
        for (int i = 0; i < acc.length; i++) {
            assertEquals(old[i] + want[i], acc[i], "accumulated element " + i);
        }
    }

    /**
     * The packed path ({@link ConvPacked}: strips gathered from a padded image by plain loads or
     * permutes) and the im2col path ({@code Conv.lowered*}) each match the reference, on shapes
     * with several reduction slices ({@code K > KC}), rows and positions that do not fill a tile,
     * groups, stride, dilation and the LeNet/VGG layers; the packed results are bitwise the same
     * for any thread count.
     */
    @Test
    void packedAndLoweredPathsMatchReference() {
        SplittableRandom rnd = new SplittableRandom(11);
        ConvGeom[] gs = {
                geom(3, 37, 6, 7, 38, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 16, 8, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                geom(2, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                geom(2, 8, 16, 16, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                geom(2, 18, 9, 5, 20, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                geom(2, 9, 10, 11, 10, 5, 3, 1, 1, 4, 2, 2, 2, 1),
                geom(2, 4, 9, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                geom(3, 2, 3, 40, 3, 1, 3, 1, 1, 0, 1, 1, 1, 1)};
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                float[] x = randomFloats(rnd, size(g.xSize()));
                float[] w = randomFloats(rnd, size(g.wSize()));
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, size(g.ySize()));
                double[] yr = new double[size(g.ySize())];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), toDouble(bias), g);
                double[] gxr = new double[size(g.xSize())];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                double[] gwr = new double[size(g.wSize())];
                RefConv.conv2dBackwardWeight(gwr, null, toDouble(x), toDouble(gy), g);
                float[][] first = null;
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = nans(yr.length);
                    float[] gx = nans(gxr.length);
                    float[] gw = nans(gwr.length);
                    boolean packedY = ConvPacked.conv2d(y, x, w, bias, g);
                    boolean packedX = ConvPacked.conv2dBackwardInput(gx, gy, w, g);
                    boolean packedW = ConvPacked.conv2dBackwardWeight(gw, x, gy, g);
                    if (packedY) {
                        assertClose("packed conv2d " + g, y, yr, ATOL, RTOL);
                    }
                    if (packedX) {
                        assertClose("packed conv2dBackwardInput " + g, gx, gxr, ATOL, RTOL);
                    }
                    if (packedW) {
                        assertClose("packed conv2dBackwardWeight " + g, gw, gwr, ATOL, RTOL);
                    }
                    assertEquals(packedY, packedW, "forward and weight gradient both packed or not: " + g);
                    if (first == null) {
                        first = new float[][]{y, gx, gw};
                        assertTrue(packedY || g.sh() > 1, "packed forward taken for " + g);
                        assertTrue(packedX || g.sh() > 1, "packed input gradient taken for " + g);
                    } else {
                        assertArrayEquals(first[0], y, "packed conv2d, " + t + " threads vs 1: " + g);
                        assertArrayEquals(first[1], gx, "packed input gradient, " + t + " threads vs 1: " + g);
                        assertArrayEquals(first[2], gw, "packed weight gradient, " + t + " threads vs 1: " + g);
                    }
                    float[] yl = nans(yr.length);
                    float[] gxl = nans(gxr.length);
                    float[] gwl = nans(gwr.length);
                    Conv.loweredForward(yl, x, w, bias, g);
                    Conv.loweredInput(gxl, gy, w, g);
                    Conv.loweredWeight(gwl, x, gy, g);
                    assertClose("lowered conv2d " + g, yl, yr, ATOL, RTOL);
                    assertClose("lowered conv2dBackwardInput " + g, gxl, gxr, ATOL, RTOL);
                    assertClose("lowered conv2dBackwardWeight " + g, gwl, gwr, ATOL, RTOL);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void im2colAndCol2imMatchReferenceAndAreAdjoint() {
        SplittableRandom rnd = new SplittableRandom(11);
        int l = Simd.lanesF();
        int[][] cases = {
                {2, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1},
                {3, 7, 5, 2, 3, 2, 1, 0, 2, 1, 2},
                {1, 4, 2 * l + 3, 1, 3, 1, 1, 0, 1, 1, 1},
                {2, 3, l + 1, 3, 2, 1, 3, 2, 0, 2, 1},
                {1, 6, l - 1 > 0 ? l - 1 : 1, 2, 2, 2, 2, 1, 1, 1, 1},
                {2, 2, 2, 3, 3, 1, 1, 2, 2, 1, 1}};
        for (int[] k : cases) {
            int c = k[0], h = k[1], w = k[2], kh = k[3], kw = k[4], sh = k[5], sw = k[6];
            int ph = k[7], pw = k[8], dh = k[9], dw = k[10];
            int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
            int ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
            int xOff = 3;
            int colOff = 5;
            int colLen = c * kh * kw * oh * ow;
            String what = Arrays.toString(k);

            float[] x = randomFloats(rnd, xOff + c * h * w);
            float[] col = new float[colOff + colLen];
            Arrays.fill(col, Float.NaN);
            Conv.im2col(col, colOff, x, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            double[] colr = new double[col.length];
            RefConv.im2col(colr, colOff, toDouble(x), xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            assertClose("im2col " + what, Arrays.copyOfRange(col, colOff, col.length),
                    Arrays.copyOfRange(colr, colOff, colr.length), 0, 0);

            float[] cin = randomFloats(rnd, colOff + colLen);
            float[] base = randomFloats(rnd, xOff + c * h * w);
            float[] acc = base.clone();
            Conv.col2im(acc, xOff, cin, colOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            double[] accr = toDouble(base);
            RefConv.col2im(accr, xOff, toDouble(cin), colOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            assertClose("col2im " + what, acc, accr, 1e-5, 1e-5);
            assertEquals(base[0], acc[0], "col2im must not touch x before xOff");

            double[] xd = toDouble(x);
            double[] cd = toDouble(cin);
            double[] zeros = new double[xd.length];
            RefConv.col2im(zeros, xOff, cd, colOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
            assertNear("<im2col(x), C> vs <x, col2im(C)> " + what,
                    dot(Arrays.copyOfRange(colr, colOff, colr.length), Arrays.copyOfRange(cd, colOff, cd.length)),
                    dot(Arrays.copyOfRange(xd, xOff, xd.length), Arrays.copyOfRange(zeros, xOff, zeros.length)));
        }
    }

    @Test
    void geometryComputesOutputSize() {
        ConvGeom lenet = geom(64, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1);
        assertEquals(28, lenet.oh());
        assertEquals(28, lenet.ow());
        ConvGeom strided = geom(1, 3, 32, 31, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1);
        assertEquals(16, strided.oh());
        assertEquals(16, strided.ow());
        ConvGeom dilated = geom(1, 4, 10, 9, 4, 3, 2, 1, 3, 0, 0, 2, 4, 4);
        assertEquals(6, dilated.oh());
        assertEquals(2, dilated.ow());
        assertEquals(1, dilated.cPerGroup());
        assertEquals(24, dilated.wSize());
        assertTrue(geom(1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 2, 2, 1).isPointwise());
    }

    @Test
    void geometryRejectsInvalidValues() {
        assertRejects("expected n >= 1, got 0", () -> geom(0, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
        assertRejects("expected kw >= 1, got -1", () -> geom(1, 1, 5, 5, 1, 3, -1, 1, 1, 0, 0, 1, 1, 1));
        assertRejects("expected sh >= 1, got 0", () -> geom(1, 1, 5, 5, 1, 3, 3, 0, 1, 0, 0, 1, 1, 1));
        assertRejects("expected dw >= 1, got 0", () -> geom(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 0, 1));
        assertRejects("expected padding ph, pw >= 0, got ph -1, pw 0",
                () -> geom(1, 1, 5, 5, 1, 3, 3, 1, 1, -1, 0, 1, 1, 1));
        assertRejects("expected c and oc divisible by groups, got c 3, oc 4, groups 2",
                () -> geom(1, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2));
        assertRejects("expected c and oc divisible by groups, got c 4, oc 3, groups 2",
                () -> geom(1, 4, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 2));
        assertRejects("expected output height >= 1", () -> geom(1, 1, 2, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
        assertRejects("expected output width >= 1", () -> geom(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 3, 1));
    }

    @Test
    void kernelsRejectShortBuffers() {
        ConvGeom g = geom(2, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        float[] x = new float[size(g.xSize())];
        float[] w = new float[size(g.wSize())];
        float[] y = new float[size(g.ySize())];
        assertRejects("conv2d: y too small: need 200 elements from offset 0, has 199",
                () -> Conv.conv2d(new float[199], x, w, null, g));
        assertRejects("conv2d: bias too small: need 4", () -> Conv.conv2d(y, x, w, new float[3], g));
        assertRejects("conv2dBackwardInput: w too small", () -> Conv.conv2dBackwardInput(x, y, new float[5], g));
        assertRejects("conv2dBackwardWeight: gb too small",
                () -> Conv.conv2dBackwardWeight(w, new float[1], x, y, g));
        assertRejects("conv2dBackwardWeight: x too small",
                () -> RefConv.conv2dBackwardWeight(new double[w.length], null, new double[3], new double[y.length], g));
        assertRejects("im2col: col too small", () -> Conv.im2col(new float[10], 0, x, 0, 3, 5, 5, 3, 3, 1, 1, 1, 1,
                1, 1, 5, 5));
        assertRejects("col2im: x offset must be >= 0", () -> Conv.col2im(x, -1, new float[675], 0, 3, 5, 5, 3, 3,
                1, 1, 1, 1, 1, 1, 5, 5));
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
