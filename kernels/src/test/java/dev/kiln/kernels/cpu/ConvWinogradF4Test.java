package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static dev.kiln.kernels.cpu.ConvWinogradTest.geom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.ref.RefConv;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvWinogradF4Test {
    /**
     * F(4x4, 3x3)'s rounding: about 1e-6 of the sums of |x*w| (up to 9 * 64 * 1/4 = 144 at depth 64
     * with inputs in [-1, 1]), measured 1.8e-4 at most; F(2x2, 3x3)'s 1e-4 is too tight for it.
     */
    private static final double ATOL = 1e-3;

    @Test
    void forwardAndInputGradientMatchTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(ConvWinogradF4.supportsForward(geom(1, 32, 14, 14, 32)), "runs only with 16-lane vectors");
        ConvGeom[] gs = {
            geom(3, 32, 14, 14, 32), // one region per image, 3 regions: a last block with one region
            geom(2, 32, 12, 12, 40), // 12 wide: lanes from 13 padding
            geom(1, 48, 15, 13, 16), // 15 high, 13 wide
            geom(2, 32, 20, 14, 8), // 20 high: a second region per image, 4 of its 16 rows in the image
            geom(5, 64, 14, 13, 64), // several chunks, rows 13 apart
            geom(2, 32, 16, 16, 32), // rows as two vectors: columns 15 and 16 in the second
            geom(1, 32, 28, 28, 16), // 2x2 regions, the second column of regions 12 wide
            geom(3, 40, 9, 33, 8)}; // 3 regions across, the last one column wide
        ConvWinogradTest.assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 43, ConvWinogradF4::supportsForward,
                ConvWinogradF4::supportsInput, ConvWinogradF4::forward, ConvWinogradF4::backwardInput, ATOL);
    }

    @Test
    void convRoutesLayersThatFillTheRegions() {
        assumeTrue(ConvWinogradF4.supportsForward(geom(1, 32, 14, 14, 32)), "runs only with 16-lane vectors");
        assertTrue(ConvWinogradF4.suitsForward(geom(1, 32, 14, 14, 64)), "14x14: 77% of the lanes");
        assertTrue(ConvWinogradF4.suitsForward(geom(1, 32, 12, 16, 64)), "12 rows of 16");
        assertTrue(ConvWinogradF4.suitsForward(geom(1, 64, 32, 32, 64)), "2x2 regions");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 11, 11, 32)), "11 of 16 rows and columns");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 20, 14, 32)), "20 rows: 20 of 32");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 16, 14, 14, 32)), "16 channels to reduce over");
        assertTrue(ConvWinogradF4.suitsInput(geom(1, 16, 14, 14, 32)), "its input gradient reduces over 32");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 14, 14, 36)), "output channels not in eights");
        assertFalse(ConvWinogradF4.supportsForward(new ConvGeom(1, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertTrue(ConvWinogradF4.suitsWeight(geom(1, 64, 14, 14, 64)), "weight gradient at 14x14");
        assertFalse(ConvWinogradF4.suitsWeight(geom(1, 32, 28, 28, 32)), "weight gradient at 28x28: the direct kernel");
        assertFalse(ConvWinogradF4.suitsWeight(geom(1, 256, 14, 14, 256)), "weight gradient partials past 32 MB");
        assumeTrue(ConvWinograd.ENABLED, "Winograd on");
        assertTrue(Conv.winogradForward(geom(1, 32, 28, 28, 32)) && ConvWinograd.suitsForward(geom(1, 32, 28, 28, 32)),
                "28x28: ConvWinograd's rows of tiles first");
    }

    @Test
    void convRoutesHereAndAccumulatingAddsTheGradientItWouldWrite() {
        for (ConvGeom g : new ConvGeom[] {geom(2, 32, 14, 14, 64), geom(2, 32, 16, 16, 32)}) {
            assumeTrue(ConvWinograd.ENABLED && ConvWinogradF4.suitsInput(g), "Winograd on, 16-lane vectors");
            ConvWinogradRegionsTest.assertConvRoutesHereAndAccumulatingAddsTheGradientItWouldWrite(g, ConvWinogradF4::forward,
                    ConvWinogradF4::backwardInput);
        }
    }

    @Test
    void weightGradientMatchesTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(ConvWinogradF4.supportsForward(geom(1, 32, 14, 14, 32)), "runs only with 16-lane vectors");
        ConvGeom[] gs = {
            geom(3, 32, 14, 14, 40), // narrow rows
            geom(2, 40, 16, 16, 32), // rows as two vectors
            geom(1, 32, 28, 28, 32), // 2x2 regions, the last row and column of regions 12 of 16
            geom(67, 32, 14, 13, 32)}; // two runs of images (64 + 3), rows 13 apart
        // sums over n * h * w positions: up to 67 * 182 * 1/4 here
        ConvWinogradTest.assertWeightGradientMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 45,
                ConvWinogradF4::supportsForward, ConvWinogradF4::backwardWeight, g -> 2e-3 * g.n());
        SplittableRandom rnd = new SplittableRandom(46);
        ConvGeom g = geom(2, 32, 14, 14, 32);
        assumeTrue(ConvWinograd.ENABLED && ConvWinogradF4.suitsWeight(g), "Winograd on");
        float[] x = randomFloats(rnd, (int) g.xSize());
        float[] gy = randomFloats(rnd, (int) g.ySize());
        float[] here = new float[(int) g.wSize()];
        ConvWinogradF4.backwardWeight(here, x, gy, g);
        float[] viaConv = new float[here.length];
        float[] gb = new float[g.oc()];
        Conv.conv2dBackwardWeight(viaConv, gb, x, gy, g);
        assertArrayEquals(here, viaConv, "Conv.conv2dBackwardWeight runs here");
        double[] gbr = new double[g.oc()];
        RefConv.conv2dBackwardWeight(new double[here.length], gbr, toDouble(x), toDouble(gy), g);
        assertClose("bias gradient", gb, gbr, 1e-4, 1e-4);
    }
}
