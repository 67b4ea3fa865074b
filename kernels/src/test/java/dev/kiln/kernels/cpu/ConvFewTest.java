package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvFew} against the scalar reference: 1 to 6 rows (a single row, a partly empty block of
 * 3, two blocks), padding up to and below the kernel's reach, dilation, groups, images whose
 * flattened positions do not fill a tile; writing, adding (input gradient) and the bias (forward);
 * bitwise the same for 1, 2 and 3 threads and through {@code Conv}'s routing.
 */
class ConvFewTest {
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    private static final ConvGeom[] GEOMS = {
            new ConvGeom(3, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeom(2, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1),
            new ConvGeom(5, 1, 12, 12, 1, 5, 5, 1, 1, 0, 0, 1, 1, 1),
            new ConvGeom(2, 2, 9, 7, 5, 3, 3, 1, 1, 1, 0, 2, 1, 1),
            new ConvGeom(3, 6, 10, 10, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2),
            new ConvGeom(1, 4, 5, 40, 2, 1, 7, 1, 1, 0, 3, 1, 1, 1),
            new ConvGeom(2, 5, 7, 7, 6, 3, 3, 1, 1, 2, 2, 1, 1, 1)};

    @Test
    void inputGradientMatchesReferenceForAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(31);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : GEOMS) {
                if (!ConvFew.suitsInput(g)) {
                    continue;
                }
                float[] gy = randomFloats(rnd, (int) g.ySize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] held = randomFloats(rnd, (int) g.xSize());
                double[] ref = new double[(int) g.xSize()];
                RefConv.conv2dBackwardInput(ref, toDouble(gy), toDouble(w), g);
                float[] first = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] gx = nans(ref.length);
                    assertTrue(ConvFew.backwardInput(false, gx, gy, w, g), "ran " + g);
                    assertClose("input gradient " + g, gx, ref, ATOL, RTOL);
                    float[] added = held.clone();
                    ConvFew.backwardInput(true, added, gy, w, g);
                    for (int i = 0; i < added.length; i++) {
                        assertTrue(Float.compare(added[i], held[i] + gx[i]) == 0, "held + gradient at " + i + ": " + g);
                    }
                    if (first == null) {
                        first = gx;
                    } else {
                        assertArrayEquals(first, gx, t + " threads vs 1: " + g);
                    }
                    if (!ConvDirect.suitsInput(g) && !ConvRows.suits(g)) {
                        float[] viaConv = held.clone();
                        Conv.conv2dBackwardInput(true, viaConv, gy, w, g);
                        assertArrayEquals(added, viaConv, "Conv routes the input gradient " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void forwardMatchesReferenceForAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(37);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : GEOMS) {
                if (!ConvFew.suitsForward(g)) {
                    continue;
                }
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                double[] ref = new double[(int) g.ySize()];
                RefConv.conv2d(ref, toDouble(x), toDouble(w), toDouble(bias), g);
                float[] first = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] y = nans(ref.length);
                    assertTrue(ConvFew.forward(y, x, w, bias, g), "ran " + g);
                    assertClose("forward " + g, y, ref, ATOL, RTOL);
                    float[] viaConv = nans(ref.length);
                    Conv.conv2d(viaConv, x, w, bias, g);
                    assertArrayEquals(y, viaConv, "Conv routes the forward pass " + g);
                    if (first == null) {
                        first = y;
                    } else {
                        assertArrayEquals(first, y, t + " threads vs 1: " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void takesFewChannelsAtStrideOneOnly() {
        ConvGeom rgb = new ConvGeom(64, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        assertTrue(Simd.SCALAR || ConvFew.suitsInput(rgb));
        // 32 output channels: only with the generated tiles, for few taps per position (27 here)
        assertTrue(ConvFew.suitsForward(rgb) == ConvFewJit.use, "32 output channels");
        assertFalse(ConvFew.suitsForward(new ConvGeom(64, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "288 taps");
        assertFalse(ConvFew.suitsInput(new ConvGeom(64, 3, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        assertFalse(ConvFew.suitsInput(new ConvGeom(64, 8, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "8 input channels");
    }
}
