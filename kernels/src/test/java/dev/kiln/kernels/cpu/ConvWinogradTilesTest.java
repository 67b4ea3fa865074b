package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.cpu.ConvWinogradTest.geom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
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
    }

    @Test
    void unitsFillTheStripsOfTheGemm() {
        assertEquals(5, ConvWinogradTiles.imagesPerUnit(64, 49), "five 14x14 images: 245 tiles in 256 columns");
        assertEquals(1, ConvWinogradTiles.imagesPerUnit(64, 64), "a 16x16 image's 8x8 tiles fill strips");
        assertEquals(1, ConvWinogradTiles.imagesPerUnit(1, 49), "no more images than the batch");
    }
}
