package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.cpu.ConvWinogradTest.geom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvWinogradRegionsTest {
    @Test
    void forwardAndInputGradientMatchTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(ConvWinogradRegions.suitsForward(geom(1, 32, 8, 8, 32)), "runs only with 16-lane vectors");
        ConvGeom[] gs = {
            geom(3, 32, 8, 8, 32), // one region per image, 3 regions: a last block with one region
            geom(2, 32, 16, 16, 40), // 4 regions per image, 2x2
            geom(1, 48, 8, 32, 96), // a row of 4 regions
            geom(2, 32, 24, 8, 8), // a column of 3 regions
            geom(1, 64, 32, 32, 64)}; // 16 regions, several chunks
        ConvWinogradTest.assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 41, ConvWinogradRegions::suitsForward,
                ConvWinogradRegions::suitsInput, ConvWinogradRegions::forward, ConvWinogradRegions::backwardInput);
    }

    @Test
    void takesOnlySidesInEights() {
        assumeTrue(ConvWinogradRegions.suitsForward(geom(1, 32, 8, 8, 32)), "runs only with 16-lane vectors");
        assertFalse(ConvWinogradRegions.suitsForward(geom(1, 32, 14, 14, 32)), "14 is not a multiple of 8");
        assertFalse(ConvWinogradRegions.suitsForward(geom(1, 16, 16, 16, 32)), "16 channels to reduce over");
        assertTrue(ConvWinogradRegions.suitsInput(geom(1, 16, 16, 16, 32)), "its input gradient reduces over 32");
        assertFalse(ConvWinogradRegions.suitsForward(geom(1, 32, 16, 16, 36)), "output channels not in eights");
        assertFalse(ConvWinogradRegions.suitsForward(new ConvGeom(1, 32, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(ConvWinogradRegions.suitsForward(geom(1, 32, 24, 24, 32)), "24 wide: ConvWinograd's rows of tiles");
        assertFalse(ConvWinogradRegions.suitsForward(geom(1, 32, 32, 32, 32)), "32 wide, 32 x 32 channels: measured slower");
        assertTrue(ConvWinogradRegions.suitsForward(geom(1, 64, 32, 32, 64)), "32 wide, 64 x 64 channels");
    }

    @Test
    void convRoutesHereAndAccumulatingAddsTheGradientItWouldWrite() {
        ConvGeom g = geom(2, 32, 8, 8, 64); // 16x16 goes to ConvWinogradF4
        assumeTrue(ConvWinograd.ENABLED && ConvWinogradRegions.suitsInput(g), "Winograd on, 16-lane vectors");
        assertConvRoutesHereAndAccumulatingAddsTheGradientItWouldWrite(g, ConvWinogradRegions::forward, ConvWinogradRegions::backwardInput);
    }

    /**
     * {@code Conv.conv2d} and {@code Conv.conv2dBackwardInput} of {@code g} give the bits of {@code forward}
     * and {@code input}, and the accumulating input gradient adds what the written one holds.
     */
    static void assertConvRoutesHereAndAccumulatingAddsTheGradientItWouldWrite(ConvGeom g, ConvWinogradTest.Forward forward,
            ConvWinogradTest.Input input) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = randomFloats(rnd, (int) g.xSize());
        float[] w = randomFloats(rnd, (int) g.wSize());
        float[] y = new float[(int) g.ySize()];
        Conv.conv2d(y, x, w, null, g);
        float[] here = new float[y.length];
        forward.run(here, x, w, null, g);
        assertArrayEquals(here, y, "Conv.conv2d runs here");
        float[] before = randomFloats(rnd, (int) g.xSize());
        float[] written = new float[before.length];
        Conv.conv2dBackwardInput(false, written, y, w, g);
        float[] direct = new float[before.length];
        input.run(direct, y, w, g);
        assertArrayEquals(direct, written, "Conv.conv2dBackwardInput runs here");
        float[] acc = before.clone();
        Conv.conv2dBackwardInput(true, acc, y, w, g);
        for (int i = 0; i < acc.length; i++) {
            assertEquals(before[i] + written[i], acc[i], "element " + i);
        }
    }
}
