package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.assertClose;
import static dev.kiln.kernels.TestArrays.nans;
import static dev.kiln.kernels.TestArrays.randomFloats;
import static dev.kiln.kernels.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.ref.RefConv;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvDot} against the scalar reference: output channels that do not fill a tile of 4 and
 * taps that do not fill a tile of 6, rows narrower than a vector, padding, dilation, groups, batches
 * smaller than the parts and than a chunk of images; bitwise the same for 1, 2 and 3 threads and
 * for {@code Conv} where it routes here.
 */
class ConvDotTest {
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    @Test
    void weightGradientMatchesReferenceForAnyThreadCount() {
        ConvGeom[] gs = {
                new ConvGeom(64, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                new ConvGeom(5, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                new ConvGeom(3, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 4, 9, 6, 7, 3, 2, 1, 1, 1, 0, 2, 1, 1),
                new ConvGeom(11, 6, 10, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                new ConvGeom(3, 2, 5, 40, 3, 1, 7, 1, 1, 0, 3, 1, 1, 1),
                new ConvGeom(4, 20, 6, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1)};
        SplittableRandom rnd = new SplittableRandom(23);
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : gs) {
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                double[] gwr = new double[(int) g.wSize()];
                double[] gbr = new double[g.oc()];
                RefConv.conv2dBackwardWeight(gwr, gbr, toDouble(x), toDouble(gy), g);
                float[][] first = null;
                for (int t : new int[] {1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] gw = nans(gwr.length);
                    float[] gb = nans(gbr.length);
                    assertEquals(!Simd.SCALAR, ConvDot.suits(g) && ConvDot.conv2dBackwardWeight(gw, gb, x, gy, g), "ran " + g);
                    if (Simd.SCALAR) {
                        continue;
                    }
                    assertClose("dot weight gradient " + g, gw, gwr, ATOL, RTOL);
                    assertClose("dot bias gradient " + g, gb, gbr, ATOL, RTOL);
                    float[] noBias = nans(gwr.length);
                    ConvDot.conv2dBackwardWeight(noBias, null, x, gy, g);
                    assertArrayEquals(gw, noBias, "without the bias gradient " + g);
                    if (ConvDot.routed(g) && !ConvDirect.suitsWeight(g)) {
                        float[] viaConv = nans(gwr.length);
                        float[] gbConv = nans(gbr.length);
                        Conv.conv2dBackwardWeight(viaConv, gbConv, x, gy, g);
                        assertArrayEquals(gw, viaConv, "Conv routes the weight gradient " + g);
                        assertArrayEquals(gb, gbConv, "Conv routes the bias gradient " + g);
                    }
                    if (first == null) {
                        first = new float[][] {gw, gb};
                    } else {
                        assertArrayEquals(first[0], gw, t + " threads vs 1: " + g);
                        assertArrayEquals(first[1], gb, t + " threads vs 1 (bias): " + g);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void routesNarrowStrideOneLayersOnlyWhenEnabled() {
        assertEquals(!Simd.SCALAR && ConvDot.ENABLED && GemmMicro.MR == 8, ConvDot.routed(new ConvGeom(64, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1)));
        assertFalse(ConvDot.routed(new ConvGeom(64, 6, 14, 14, 16, 5, 5, 2, 2, 0, 0, 1, 1, 1)), "stride 2");
        assertEquals(!Simd.SCALAR && ConvDot.ENABLED, ConvDot.routed(new ConvGeom(64, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1)),
                "LeNet-5's first layer, on both register files");
        assertFalse(ConvDot.routed(new ConvGeom(64, 3, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "64 output channels");
        assertFalse(ConvDot.routed(new ConvGeom(64, 24, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)), "216 taps");
        assertEquals(!Simd.SCALAR && ConvDot.ENABLED && GemmMicro.MR == 8, ConvDot.routed(new ConvGeom(64, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
    }
}
