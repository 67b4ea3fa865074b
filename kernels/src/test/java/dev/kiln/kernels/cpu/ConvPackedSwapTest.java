package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvPacked}'s weight gradient computed transposed ({@link ConvPacked#weightSwapped}: taps
 * along the tiles' rows, output channels along their columns) against the reference, and against
 * the untransposed path bit for bit (the same sums in the same order), on 1 to 3 threads.
 */
class ConvPackedSwapTest {
    @Test
    void swappedWeightGradientMatchesTheOtherPathBitForBit() {
        Assumptions.assumeFalse(Simd.SCALAR, "no packed convolution paths without vectors");
        // first layers (1 or 3 channels, the case it is for), positions in several slices, a stride, groups,
        // a dilation, output channels past a strip, fewer taps than a tile's rows and fewer channels than its
        // columns (partial tiles only); those the tiles of this CPU do not swap are skipped (1 -> 32, the grouped
        // layer and the 2 x 2 one swap with 5 x 16 and with 8 x 32 tiles)
        ConvGeom[] gs = {new ConvGeom(3, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 3, 40, 40, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(3, 2, 17, 15, 36, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                new ConvGeom(2, 2, 12, 12, 64, 3, 3, 1, 1, 2, 2, 2, 2, 2),
                new ConvGeom(2, 1, 30, 30, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                new ConvGeom(2, 1, 12, 13, 12, 2, 2, 1, 1, 0, 0, 1, 1, 1)};
        SplittableRandom rnd = new SplittableRandom(61);
        int saved = Parallel.threads();
        try {
            int swapped = 0;
            for (ConvGeom g : gs) {
                ConvPacked cp = ConvPacked.of(g);
                assertTrue(ConvPacked.suitsWeight(g), "packed weight gradient for " + g);
                if (!cp.swapsWeight(g.ocPerGroup())) {
                    continue; // with 8 x 32 tiles (32 registers) fewer layers gain from it
                }
                swapped++;
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] gwr = new double[(int) g.wSize()];
                RefConv.conv2dBackwardWeight(gwr, new double[g.oc()], toDouble(x), toDouble(gy), g);
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[][] out = new float[2][];
                    for (int v = 0; v < 2; v++) {
                        ConvPacked.swapWeights = v == 1;
                        out[v] = nans(gwr.length);
                        assertTrue(ConvPacked.conv2dBackwardWeight(out[v], x, gy, g), "ran " + g);
                    }
                    ConvPacked.swapWeights = true;
                    assertClose("swapped weight gradient " + g, out[1], gwr, 1e-3, 1e-4);
                    for (int i = 0; i < gwr.length; i++) {
                        assertEquals(Float.floatToRawIntBits(out[0][i]), Float.floatToRawIntBits(out[1][i]),
                                g + ", " + t + " threads: element " + i);
                    }
                }
            }
            assertTrue(swapped >= 2, "expected at least two of the layers to take the swapped path, got " + swapped);
        } finally {
            ConvPacked.swapWeights = true;
            Parallel.setThreads(saved);
        }
    }

    @Test
    void keepsTheUntransposedGradientWhereItWastesNoMore() {
        // 32 -> 64 at 3 x 3: 288 taps fill the strips of 16 columns; 64 -> 128: too many taps to pack at once
        assertFalse(ConvPacked.of(new ConvGeom(1, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)).swapsWeight(64));
        assertFalse(ConvPacked.of(new ConvGeom(1, 64, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1)).swapsWeight(128));
        assertTrue(ConvPacked.of(new ConvGeom(1, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)).swapsWeight(32));
    }
}
