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

/** The scattering input gradient for few input channels (16-register machines). */
class ConvScatterInputTest {
    private static ConvGeom geom(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int ph, int pw,
                                 int dh, int groups) {
        return new ConvGeom(n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, 1, groups);
    }

    private static final ConvGeom LENET = geom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1);

    @Test
    void matchesTheReferenceWithTheSameBitsAtAnyThreadCountAndAccumulates() {
        assumeTrue(ConvScatterInput.can(LENET), "16-register machines");
        ConvGeom[] gs = {
            LENET,
            geom(2, 6, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1), // padding: rows cut by the border
            geom(2, 3, 11, 9, 8, 3, 3, 2, 2, 1, 0, 1, 1), // stride, uneven padding, odd sides
            geom(2, 4, 12, 12, 32, 3, 3, 1, 1, 0, 0, 2, 1), // dilated down
            geom(2, 8, 9, 10, 16, 5, 5, 1, 1, 1, 2, 1, 2), // groups of 4 -> 8
            geom(1, 1, 7, 7, 24, 5, 5, 1, 1, 0, 0, 1, 1)}; // one input channel: runs of 5 in vectors of 8
        SplittableRandom rnd = new SplittableRandom(53);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                assertTrue(ConvScatterInput.can(g), g.toString());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] gxr = new double[(int) g.xSize()];
                RefConv.conv2dBackwardInput(gxr, toDouble(gy), toDouble(w), g);
                float[] first = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] gx = nans(gxr.length);
                    ConvScatterInput.backwardInput(false, gx, gy, w, g);
                    assertClose("scatter input gradient " + g, gx, gxr, 1e-4, 1e-4);
                    if (first == null) {
                        first = gx;
                    } else {
                        assertArrayEquals(first, gx, "same bits at " + t + " threads " + g);
                    }
                }
                float[] before = randomFloats(rnd, first.length);
                float[] acc = before.clone();
                ConvScatterInput.backwardInput(true, acc, gy, w, g);
                for (int i = 0; i < acc.length; i++) {
                    assertEquals(before[i] + first[i], acc[i], "accumulated element " + i + " " + g);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void convRoutesOnlyLayersWhoseCorrelationWouldMostlyMultiplyPadding() {
        assumeTrue(ConvScatterInput.can(LENET), "16-register machines");
        assertTrue(ConvScatterInput.suits(LENET), "LeNet-5's 6 -> 16: 100 of 196 positions");
        assertFalse(ConvScatterInput.suits(geom(1, 6, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1)), "same padding");
        assertFalse(ConvScatterInput.suits(geom(1, 3, 32, 32, 32, 3, 3, 1, 1, 0, 0, 1, 1)), "900 of 1024");
        assertFalse(ConvScatterInput.can(geom(1, 8, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1)), "8 input channels");
        assertFalse(ConvScatterInput.can(geom(1, 6, 14, 14, 6, 5, 5, 1, 1, 0, 0, 1, 1)), "6 output channels");
        SplittableRandom rnd = new SplittableRandom(59);
        float[] w = randomFloats(rnd, (int) LENET.wSize());
        float[] gy = randomFloats(rnd, (int) LENET.ySize());
        float[] here = new float[(int) LENET.xSize()];
        ConvScatterInput.backwardInput(false, here, gy, w, LENET);
        float[] viaConv = new float[here.length];
        Conv.conv2dBackwardInput(viaConv, gy, w, LENET);
        assertArrayEquals(here, viaConv, "Conv routes LeNet-5's input gradient here");
    }
}
