package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static dev.kiln.kernels.cpu.ConvWinogradTest.geom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The lane-width-free Winograd kernel: runs on every vector machine, routed where it was measured faster. */
class ConvWinogradTilesTest {
    @Test
    void forwardAndInputGradientMatchTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(!Simd.SCALAR, "vector kernels");
        ConvGeom[] gs = {
            geom(5, 32, 14, 14, 32), // 7x7 tiles: vectors of tiles span rows; 5 images, units of several
            geom(3, 32, 8, 8, 40), // 4x4 tiles: a vector holds two (or four) rows of tiles
            geom(2, 33, 28, 28, 9), // rows of 14 tiles: two chunks per split row; 9 output channels (a part panel)
            geom(2, 32, 7, 9, 16), // odd sides: the last row and column of tiles half outside
            geom(3, 40, 1, 1, 8), // a single pixel: one tile, three of its outputs past the image
            geom(2, 32, 2, 34, 32), // one row of 17 tiles: three chunks
            geom(1, 64, 16, 16, 24)};
        ConvWinogradTest.assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 41, ConvWinogradTiles::suitsForward,
                ConvWinogradTiles::suitsInput, ConvWinogradTiles::forward,
                (gx, gy, w, g) -> ConvWinogradTiles.backwardInput(false, gx, gy, w, g));
    }

    @Test
    void weightGradientMatchesTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(!Simd.SCALAR, "vector kernels");
        ConvGeom[] gs = {
            geom(23, 16, 14, 14, 8), // units of 5 images: 5 units over 4 slots, the last of 3 images
            geom(3, 33, 8, 8, 40), // channels past whole strips and vectors on both sides
            geom(2, 32, 28, 28, 32),
            geom(2, 17, 7, 9, 9), // odd sides, odd channels
            geom(5, 16, 1, 1, 8)}; // a single pixel
        // sums over n * h * w positions of products of up to 1/4
        ConvWinogradTest.assertWeightGradientMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 47,
                ConvWinogradTiles::suitsWeight, ConvWinogradTiles::backwardWeight, g -> 2e-4 * g.n() * g.h() * g.w() / 14);
    }

    @Test
    void convRoutesTheWeightGradientHereOnMachinesWith16Registers() {
        ConvGeom g = geom(2, 32, 14, 14, 32);
        assumeTrue(ConvWinogradTiles.suitsWeight(g), "vector kernels");
        SplittableRandom rnd = new SplittableRandom(49);
        float[] x = randomFloats(rnd, (int) g.xSize());
        float[] gy = randomFloats(rnd, (int) g.ySize());
        float[] here = new float[(int) g.wSize()];
        ConvWinogradTiles.backwardWeight(here, x, gy, g);
        float[] viaConv = new float[here.length];
        float[] gb = new float[g.oc()];
        Conv.conv2dBackwardWeight(viaConv, gb, x, gy, g);
        boolean routed = ConvWinograd.ENABLED && ConvWinogradTiles.ROUTED;
        assertEquals(routed, Conv.winogradWeight(g));
        if (routed) {
            assertArrayEquals(here, viaConv, "Conv.conv2dBackwardWeight runs here");
        }
        double[] gbr = new double[g.oc()];
        RefConv.conv2dBackwardWeight(new double[here.length], gbr, toDouble(x), toDouble(gy), g);
        assertClose("bias gradient", gb, gbr, 1e-4, 1e-4);
    }

    @Test
    void accumulatingAddsTheGradientItWouldWrite() {
        ConvGeom g = geom(3, 16, 10, 13, 32);
        assumeTrue(ConvWinogradTiles.suitsInput(g), "vector kernels");
        SplittableRandom rnd = new SplittableRandom(5);
        float[] w = randomFloats(rnd, (int) g.wSize());
        float[] gy = randomFloats(rnd, (int) g.ySize());
        float[] before = randomFloats(rnd, (int) g.xSize());
        float[] written = new float[before.length];
        ConvWinogradTiles.backwardInput(false, written, gy, w, g);
        float[] acc = before.clone();
        ConvWinogradTiles.backwardInput(true, acc, gy, w, g);
        for (int i = 0; i < acc.length; i++) {
            assertEquals(before[i] + written[i], acc[i], "element " + i);
        }
    }

    @Test
    void convRoutesHereOnMachinesWith16Registers() {
        ConvGeom g = geom(2, 32, 14, 14, 64);
        assumeTrue(ConvWinogradTiles.suitsForward(g) && ConvWinogradTiles.suitsInput(g), "vector kernels");
        SplittableRandom rnd = new SplittableRandom(9);
        float[] x = randomFloats(rnd, (int) g.xSize());
        float[] w = randomFloats(rnd, (int) g.wSize());
        float[] gy = randomFloats(rnd, (int) g.ySize());
        float[] viaConv = new float[(int) g.ySize()];
        Conv.conv2d(viaConv, x, w, null, g);
        float[] here = new float[viaConv.length];
        ConvWinogradTiles.forward(here, x, w, null, g);
        float[] gxConv = new float[(int) g.xSize()];
        Conv.conv2dBackwardInput(gxConv, gy, w, g);
        float[] gxHere = new float[gxConv.length];
        ConvWinogradTiles.backwardInput(false, gxHere, gy, w, g);
        boolean routed = ConvWinograd.ENABLED && ConvWinogradTiles.ROUTED;
        assertEquals(routed, Conv.winogradForward(g) && Conv.winogradInput(g));
        if (routed) {
            assertArrayEquals(here, viaConv);
            assertArrayEquals(gxHere, gxConv);
        }
    }

    @Test
    void takesOnlyTheLayersItSuits() {
        assumeTrue(!Simd.SCALAR, "vector kernels");
        assertTrue(ConvWinogradTiles.suitsForward(geom(1, 32, 14, 14, 32)));
        assertTrue(ConvWinogradTiles.suitsForward(geom(1, 16, 14, 14, 8)));
        assertFalse(ConvWinogradTiles.suitsForward(geom(1, 8, 14, 14, 32)), "8 channels to reduce over");
        assertTrue(ConvWinogradTiles.suitsInput(geom(1, 8, 14, 14, 32)), "its input gradient reduces over 32");
        assertFalse(ConvWinogradTiles.suitsForward(geom(1, 32, 14, 14, 4)), "4 output channels");
        assertFalse(ConvWinogradTiles.suitsInput(geom(1, 3, 32, 32, 32)), "3 channels out of the input gradient");
        assertFalse(ConvWinogradTiles.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(ConvWinogradTiles.suitsForward(new ConvGeom(1, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "groups");
        assertFalse(ConvWinogradTiles.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 3, 3, 1, 1, 0, 0, 1, 1, 1)), "no padding");
        assertFalse(ConvWinogradTiles.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1)), "5x5");
        assertFalse(ConvWinogradTiles.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation");
        assertTrue(ConvWinogradTiles.suitsWeight(geom(1, 16, 14, 14, 16)));
        assertTrue(ConvWinogradTiles.suitsWeight(geom(1, 8, 14, 14, 8)));
        assertFalse(ConvWinogradTiles.suitsWeight(geom(1, 3, 32, 32, 32)), "3 input channels");
        assertFalse(ConvWinogradTiles.suitsWeight(geom(1, 32, 14, 14, 4)), "4 output channels");
        assertFalse(ConvWinogradTiles.suitsWeight(geom(1, 512, 4, 4, 512)), "partial sums past 32 MB");
        assertTrue(ConvWinogradTiles.suitsForward(geom(1, 64, 128, 128, 64)), "64 channels of 128x128: 20 MB of work array");
        assertFalse(ConvWinogradTiles.suitsForward(geom(1, 64, 224, 224, 64)), "one image's transform past 32 MB");
    }

    @Test
    void unitsFillTheStripsOfTheGemm() {
        assertEquals(5, ConvWinogradTiles.imagesPerUnit(64, 49), "five 14x14 images: 245 tiles in 256 columns");
        assertEquals(1, ConvWinogradTiles.imagesPerUnit(64, 64), "a 16x16 image's 8x8 tiles fill strips");
        assertEquals(1, ConvWinogradTiles.imagesPerUnit(1, 49), "no more images than the batch");
    }
}
