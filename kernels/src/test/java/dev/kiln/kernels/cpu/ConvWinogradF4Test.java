package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.ConvWinogradTest.geom;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import org.junit.jupiter.api.Test;

class ConvWinogradF4Test {
    /**
     * F(4x4, 3x3)'s rounding: about 1e-6 of the sums of |x*w| (up to 9 * 64 * 1/4 = 144 at depth 64
     * with inputs in [-1, 1]), measured 1.8e-4 at most; F(2x2, 3x3)'s 1e-4 is too tight for it.
     */
    private static final double ATOL = 1e-3;

    @Test
    void forwardAndInputGradientMatchTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(ConvWinogradF4.suitsForward(geom(1, 32, 14, 14, 32)), "runs only with 16-lane vectors");
        ConvGeom[] gs = {
            geom(3, 32, 14, 14, 32), // one region per image, 3 regions: a last block with one region
            geom(2, 32, 12, 12, 40), // 12 wide: lanes from 13 padding
            geom(1, 48, 15, 13, 16), // 15 high, 13 wide
            geom(2, 32, 20, 14, 8), // 20 high: a second region per image, 4 of its 16 rows in the image
            geom(5, 64, 14, 13, 64)}; // several chunks, rows 13 apart
        ConvWinogradTest.assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 43, ConvWinogradF4::suitsForward,
                ConvWinogradF4::suitsInput, ConvWinogradF4::forward, ConvWinogradF4::backwardInput, ATOL);
    }

    @Test
    void takesOnlyWidths12To14() {
        assumeTrue(ConvWinogradF4.suitsForward(geom(1, 32, 14, 14, 32)), "runs only with 16-lane vectors");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 16, 16, 32)), "16 wide: 18 padded columns");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 15, 15, 32)), "15 wide: lane 15 (column 14) must be padding");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 11, 11, 32)), "11 wide");
        assertTrue(ConvWinogradF4.suitsForward(geom(1, 32, 40, 12, 32)), "any height");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 16, 14, 14, 32)), "16 channels to reduce over");
        assertTrue(ConvWinogradF4.suitsInput(geom(1, 16, 14, 14, 32)), "its input gradient reduces over 32");
        assertFalse(ConvWinogradF4.suitsForward(geom(1, 32, 14, 14, 36)), "output channels not in eights");
        assertFalse(ConvWinogradF4.suitsForward(new ConvGeom(1, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
    }
}
