package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.ref.RefConv;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvWinogradTest {
    /** Winograd's rounding: a few ulps of the sums of |x*w| (about 1e-5 relative here), well inside these. */
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    /** A 3x3 stride-1 "same" layer. */
    static ConvGeom geom(int n, int c, int h, int w, int oc) {
        return new ConvGeom(n, c, h, w, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    }

    @Test
    void forwardAndInputGradientMatchTheReferenceWithTheSameBitsAtAnyThreadCount() {
        assumeTrue(ConvWinograd.suitsForward(geom(1, 32, 28, 28, 32)), "Winograd runs only with 16-lane vectors");
        ConvGeom[] gs = {
            geom(3, 32, 28, 28, 32), // rows of 14 tiles, 7 blocks, chunks of 2: a last chunk of one block
            geom(2, 32, 6, 28, 40), // 3 rows of tiles: the second block's second row lies past the image
            geom(2, 48, 20, 20, 16), // rows of 10 tiles (6 lanes of padding), 16 output channels
            geom(2, 32, 4, 30, 8), // the widest rows: 15 tiles, the second vector of a row 15 floats
            geom(1, 40, 2, 22, 32), // one row of tiles
            geom(2, 64, 8, 24, 64)};
        assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, 31, ConvWinograd::suitsForward, ConvWinograd::suitsInput,
                ConvWinograd::forward, (gx, gy, w, g) -> ConvWinograd.backwardInput(false, gx, gy, w, g));
    }

    /** A Winograd pass: {@code forward(y, x, w, bias, g)}. */
    interface Forward {
        void run(float[] y, float[] x, float[] w, float[] bias, ConvGeom g);
    }

    /** A Winograd input gradient, written: {@code input(gx, gy, w, g)}. */
    interface Input {
        void run(float[] gx, float[] gy, float[] w, ConvGeom g);
    }

    /**
     * Each geometry's forward pass and input gradient (where {@code suitsInput}) against
     * {@link RefConv} within Winograd's tolerance, with the same bits on 1, 2 and 3 threads.
     */
    static void assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(ConvGeom[] gs, long seed,
            java.util.function.Predicate<ConvGeom> suitsForward, java.util.function.Predicate<ConvGeom> suitsInput,
            Forward forward, Input input) {
        assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(gs, seed, suitsForward, suitsInput, forward, input, ATOL);
    }

    /** As above with absolute tolerance {@code atol}. */
    static void assertMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(ConvGeom[] gs, long seed,
            java.util.function.Predicate<ConvGeom> suitsForward, java.util.function.Predicate<ConvGeom> suitsInput,
            Forward forward, Input input, double atol) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(suitsForward.test(g), g.toString());
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] yr = new double[(int) g.ySize()];
                RefConv.conv2d(yr, toDouble(x), toDouble(w), toDouble(bias), g);
                double[] gxr = new double[(int) g.xSize()];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                float[] first = null;
                float[] firstGx = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = nans(yr.length);
                    forward.run(y, x, w, bias, g);
                    assertClose("winograd conv2d " + g, y, yr, atol, RTOL);
                    float[] gx = nans(gxr.length);
                    if (suitsInput.test(g)) {
                        input.run(gx, gy, w, g);
                        assertClose("winograd conv2dBackwardInput " + g, gx, gxr, atol, RTOL);
                    }
                    if (first == null) {
                        first = y;
                        firstGx = gx;
                    } else {
                        assertArrayEquals(first, y, "same bits at " + t + " threads " + g);
                        assertArrayEquals(firstGx, gx, "same bits at " + t + " threads " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /** A Winograd weight gradient, written: {@code weight(gw, x, gy, g)}. */
    interface Weight {
        void run(float[] gw, float[] x, float[] gy, ConvGeom g);
    }

    /**
     * Each geometry's weight gradient (it must {@code suit}) against {@link RefConv} within
     * {@code atol(g)} (sums over the batch's positions), with the same bits on 1, 2 and 3 threads.
     */
    static void assertWeightGradientMatchesTheReferenceWithTheSameBitsAtAnyThreadCount(ConvGeom[] gs, long seed,
            java.util.function.Predicate<ConvGeom> suits, Weight weight, java.util.function.ToDoubleFunction<ConvGeom> atol) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(suits.test(g), g.toString());
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] gwr = new double[(int) g.wSize()];
                RefConv.conv2dBackwardWeight(gwr, new double[g.oc()], toDouble(x), toDouble(gy), g);
                float[] first = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] gw = nans(gwr.length);
                    weight.run(gw, x, gy, g);
                    assertClose("winograd weight gradient " + g, gw, gwr, atol.applyAsDouble(g), RTOL);
                    if (first == null) {
                        first = gw;
                    } else {
                        assertArrayEquals(first, gw, "same bits at " + t + " threads " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void accumulatingAddsTheGradientItWouldWrite() {
        ConvGeom g = geom(2, 32, 10, 26, 48);
        assumeTrue(ConvWinograd.suitsInput(g), "Winograd runs only with 16-lane vectors");
        SplittableRandom rnd = new SplittableRandom(5);
        float[] w = randomFloats(rnd, (int) g.wSize());
        float[] gy = randomFloats(rnd, (int) g.ySize());
        float[] before = randomFloats(rnd, (int) g.xSize());
        float[] written = new float[before.length];
        ConvWinograd.backwardInput(false, written, gy, w, g);
        float[] acc = before.clone();
        ConvWinograd.backwardInput(true, acc, gy, w, g);
        for (int i = 0; i < acc.length; i++) {
            assertEquals(before[i] + written[i], acc[i], "element " + i);
        }
    }

    @Test
    void convRoutesHereOnlyWhenAskedTo() {
        ConvGeom g = geom(1, 32, 28, 28, 32);
        assumeTrue(ConvWinograd.suitsForward(g), "Winograd runs only with 16-lane vectors");
        SplittableRandom rnd = new SplittableRandom(9);
        float[] x = randomFloats(rnd, (int) g.xSize());
        float[] w = randomFloats(rnd, (int) g.wSize());
        float[] viaConv = new float[(int) g.ySize()];
        Conv.conv2d(viaConv, x, w, null, g);
        float[] here = new float[viaConv.length];
        ConvWinograd.forward(here, x, w, null, g);
        float[] direct = new float[viaConv.length];
        assertTrue(ConvDirect.conv2d(direct, x, w, null, g));
        assertArrayEquals(ConvWinograd.ENABLED ? here : direct, viaConv);
    }

    @Test
    void takesOnlyTheShapesItWasMeasuredFasterOn() {
        assumeTrue(ConvWinograd.suitsForward(geom(1, 32, 28, 28, 32)), "Winograd runs only with 16-lane vectors");
        assertFalse(ConvWinograd.suitsForward(geom(1, 32, 18, 18, 32)), "rows of 9 tiles: 9 of 16 lanes");
        assertFalse(ConvWinograd.suitsForward(geom(1, 16, 24, 24, 32)), "16 channels to reduce over");
        assertTrue(ConvWinograd.suitsInput(geom(1, 16, 24, 24, 32)), "its input gradient reduces over 32");
        assertFalse(ConvWinograd.suitsForward(geom(1, 32, 14, 14, 32)), "rows of 7 tiles");
        assertFalse(ConvWinograd.suitsForward(geom(1, 32, 27, 28, 32)), "odd height");
        assertFalse(ConvWinograd.suitsForward(geom(1, 32, 32, 32, 32)), "rows of 16 tiles need a third vector");
        assertFalse(ConvWinograd.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(ConvWinograd.suitsForward(new ConvGeom(1, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "groups");
        assertFalse(ConvWinograd.suitsForward(new ConvGeom(1, 32, 28, 28, 32, 3, 3, 1, 1, 0, 0, 1, 1, 1)), "no padding");
        assertFalse(ConvWinograd.suitsForward(geom(1, 32, 28, 28, 36)), "output channels not in eights");
    }
}
