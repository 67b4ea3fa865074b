package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated fp32 tiles ({@link GemmJit}, AVX2 + FMA with 5-row tiles) against
 * {@link GemmMicro#kernel}, bit for bit, nothing else written; the GEMM with and without them, bit
 * for bit, on every path that reaches them; and the checks that keep bad arguments from the code.
 * Skipped where the code cannot run.
 */
class GemmJitTest {
    private static final int MR = GemmMicro.MR;
    private static final int NR = GemmMicro.NR;
    private final SplittableRandom rnd = new SplittableRandom(77);
    private boolean was;

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(GemmJit.SUPPORTED, "the generated fp32 tiles cannot run here");
        was = GemmJit.use(true);
    }

    @AfterEach
    void restore() {
        GemmJit.use(was);
    }

    @Test
    void tilesMatchTheVectorKernel() {
        // kc, tiles, B row stride (16: packed; wider: read in place), and whether the tiles go down a column
        // (A steps, B stays) or along a row (B steps, A stays: rowsFirst)
        int[][] shapes = {{1, 1, 16, 0}, {7, 3, 16, 0}, {64, 2, 37, 0}, {1025, 4, 16, 0}, {9, 3, 16, 1},
                {33, 5, 50, 1}};
        for (int[] s : shapes) {
            int kc = s[0];
            int tiles = s[1];
            int bStride = s[2];
            boolean alongRow = s[3] == 1;
            int ldc = alongRow ? NR * tiles + 3 : NR + 5;
            int aStep = alongRow ? 0 : MR * kc;
            int bStep = alongRow ? (bStride == NR ? NR * kc : NR) : 0;
            int cStep = alongRow ? NR : MR * ldc;
            int biasStep = alongRow ? NR : 0;
            float[] ap = randomFloats(rnd, 2 + tiles * MR * kc);
            float[] b = randomFloats(rnd, 3 + (tiles - 1) * bStep + (kc - 1) * bStride + NR + 1);
            float[] bias = randomFloats(rnd, 1 + tiles * NR);
            ap[2] = Float.NaN;
            for (int flags = 0; flags < 8; flags++) {
                boolean load = (flags & 1) != 0;
                float[] z = (flags & 2) != 0 ? bias : null;
                boolean relu = (flags & 4) != 0;
                float[] got = randomFloats(rnd, 4 + (tiles - 1) * cStep + (MR - 1) * ldc + NR + 3);
                got[4] = -0f;
                float[] want = got.clone();
                for (int t = 0; t < tiles; t++) {
                    GemmMicro.kernel(kc, ap, 2 + t * aStep, b, 3 + t * bStep, bStride, want, 4 + t * cStep, ldc, load,
                            z, 1 + t * biasStep, relu);
                }
                GemmJit.tiles(ap, 2, aStep, b, 3, bStride, bStep, got, 4, ldc, cStep, kc, tiles, load, z, 1, biasStep,
                        relu);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            "kc " + kc + ", " + tiles + " tiles, B stride " + bStride + (alongRow ? " along a row" : "")
                                    + ", load " + load + ", bias " + (z != null) + ", relu " + relu + ": element " + i);
                }
            }
        }
    }

    /** A read in place, k-major ({@code aStride} floats a step), the tiles down its rows: as the Winograd weight gradient calls it. */
    @Test
    void tilesOverAStridedAMatchTheVectorKernel() {
        for (int[] s : new int[][] {{1, 1, MR}, {9, 3, 3 * MR + 2}, {70, 4, 4 * MR}, {5, 2, 2 * MR + 7}}) {
            int kc = s[0];
            int tiles = s[1];
            int aStride = s[2];
            int ldc = NR + 3;
            float[] ap = randomFloats(rnd, 2 + (kc - 1) * aStride + tiles * MR + 1);
            float[] b = randomFloats(rnd, 3 + (kc - 1) * 21 + NR + 1);
            for (boolean load : new boolean[] {false, true}) {
                float[] got = randomFloats(rnd, 4 + (tiles * MR - 1) * ldc + NR + 2);
                float[] want = got.clone();
                for (int t = 0; t < tiles; t++) {
                    GemmMicro.kernel(kc, ap, 2 + t * MR, aStride, b, 3, 21, want, 4 + t * MR * ldc, ldc, load, null, 0, false);
                }
                GemmJit.tiles(ap, 2, aStride, MR, b, 3, 21, 0, got, 4, ldc, MR * ldc, kc, tiles, load, null, 0, 0, false);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            "kc " + kc + ", " + tiles + " tiles, A stride " + aStride + ", load " + load + ": element " + i);
                }
            }
        }
        float[] ap = new float[2 + 3 * 11 + MR];
        GemmJit.tiles(ap, 2, 11, MR, new float[4 * NR], 0, NR, 0, new float[MR * NR], 0, NR, 0, 4, 1, false, null, 0, 0,
                false); // exactly fits
        assertThrows(IllegalArgumentException.class, () -> GemmJit.tiles(ap, 3, 11, MR, new float[4 * NR], 0, NR, 0,
                new float[MR * NR], 0, NR, 0, 4, 1, false, null, 0, 0, false));
    }

    @Test
    void gemmGivesTheSameBitsWithAndWithoutTheCode() {
        // m, n, k, transA, transB: B read in place (a Linear batch), packed panels (m past 4 row blocks),
        // shallow slices in rows-first order, several slices of k, transposes, edges in every dimension
        int[][] shapes = {{64, 300, 784, 0, 0}, {64, 300, 784, 0, 1}, {400, 100, 70, 1, 0}, {700, 600, 100, 0, 0},
                {23, 50, 2100, 0, 0}, {401, 33, 17, 1, 1}, {5, 16, 1, 0, 0}, {131, 1029, 9, 0, 0}};
        for (int threads : new int[] {1, 2}) {
            int before = Parallel.threads();
            Parallel.setThreads(threads);
            try {
                for (int[] s : shapes) {
                    int m = s[0], n = s[1], k = s[2];
                    boolean tA = s[3] == 1, tB = s[4] == 1;
                    float[] a = randomFloats(rnd, m * k);
                    float[] b = randomFloats(rnd, k * n);
                    float[] bias = randomFloats(rnd, n);
                    float[] c0 = randomFloats(rnd, m * n);
                    for (int mode = 0; mode < 3; mode++) {
                        float[][] out = new float[2][];
                        for (int v = 0; v < 2; v++) {
                            GemmJit.use(v == 1);
                            float[] c = c0.clone();
                            if (mode == 2) {
                                Gemm.sgemmBias(true, c, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, bias, 0, m, n, k);
                            } else {
                                Gemm.sgemm(mode == 1, c, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, m, n, k);
                            }
                            out[v] = c;
                        }
                        for (int i = 0; i < out[0].length; i++) {
                            assertEquals(Float.floatToRawIntBits(out[0][i]), Float.floatToRawIntBits(out[1][i]),
                                    m + "x" + n + "x" + k + " tA " + tA + " tB " + tB + " mode " + mode + " threads "
                                            + threads + ": element " + i);
                        }
                    }
                }
            } finally {
                Parallel.setThreads(before);
            }
        }
    }

    @Test
    void convolutionsGiveTheSameBitsWithAndWithoutTheCode() {
        // the packed convolution paths (forward, input gradient as a forward pass, weight gradient) run their full
        // tiles through the code: odd channel counts (a partial tile), strides, groups, a tail of positions
        ConvGeom[] geoms = {new ConvGeom(2, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                new ConvGeom(3, 7, 9, 11, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                new ConvGeom(2, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 2)};
        for (ConvGeom g : geoms) {
            assertTrue(ConvPacked.suits(g) && ConvPacked.suitsWeight(g), g + " should take the packed paths");
            float[] x = randomFloats(rnd, g.n() * g.c() * g.h() * g.w());
            float[] w = randomFloats(rnd, g.oc() * g.cPerGroup() * g.kh() * g.kw());
            float[] bias = randomFloats(rnd, g.oc());
            float[] gy = randomFloats(rnd, g.n() * g.oc() * g.oh() * g.ow());
            float[][][] out = new float[2][][];
            for (int v = 0; v < 2; v++) {
                GemmJit.use(v == 1);
                float[] y = new float[gy.length];
                float[] gx = new float[x.length];
                float[] gw = new float[w.length];
                float[] gb = new float[g.oc()];
                if (!ConvPacked.conv2d(y, x, w, bias, g)) { // called directly: Conv routes few taps to ConvFew
                    Conv.conv2d(y, x, w, bias, g); // stride 2: through im2col and the GEMM
                }
                Conv.conv2dBackwardInput(gx, gy, w, g);
                Conv.conv2dBackwardWeight(gw, gb, x, gy, g);
                out[v] = new float[][] {y, gx, gw, gb};
            }
            for (int t = 0; t < 4; t++) {
                for (int i = 0; i < out[0][t].length; i++) {
                    assertEquals(Float.floatToRawIntBits(out[0][t][i]), Float.floatToRawIntBits(out[1][t][i]),
                            g + " result " + t + ": element " + i);
                }
            }
        }
    }

    @Test
    void winogradTilesGiveTheSameBitsWithAndWithoutTheCode() {
        // the flattened-tile Winograd's forward pass (and the input gradient, a forward pass of the flipped
        // weights) runs its per-frequency GEMM as runs of tiles down the panels of output channels, and the
        // weight gradient down the input channels of the transformed input, read in place
        ConvGeom[] geoms = {new ConvGeom(3, 16, 12, 10, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1), // a partial panel of 2 rows
                new ConvGeom(2, 18, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1)};
        int saved = Parallel.threads();
        try {
            for (ConvGeom g : geoms) {
                assertTrue(ConvWinogradTiles.suitsForward(g) && ConvWinogradTiles.suitsInput(g), g + " should suit");
                float[] x = randomFloats(rnd, g.n() * g.c() * g.h() * g.w());
                float[] w = randomFloats(rnd, g.oc() * g.c() * 9);
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, g.n() * g.oc() * g.h() * g.w());
                for (int t : new int[] {1, 2}) {
                    Parallel.setThreads(t);
                    float[][] y = new float[2][gy.length];
                    float[][] gx = new float[2][x.length];
                    float[][] gw = new float[2][w.length];
                    for (int v = 0; v < 2; v++) {
                        GemmJit.use(v == 1);
                        ConvWinogradTiles.forward(y[v], x, w, bias, g);
                        ConvWinogradTiles.backwardInput(false, gx[v], gy, w, g);
                        ConvWinogradTiles.backwardWeight(gw[v], x, gy, g);
                    }
                    for (int i = 0; i < gw[0].length; i++) {
                        assertEquals(Float.floatToRawIntBits(gw[0][i]), Float.floatToRawIntBits(gw[1][i]),
                                g + " weight gradient " + i);
                    }
                    for (int i = 0; i < y[0].length; i++) {
                        assertEquals(Float.floatToRawIntBits(y[0][i]), Float.floatToRawIntBits(y[1][i]), g + " forward " + i);
                    }
                    for (int i = 0; i < gx[0].length; i++) {
                        assertEquals(Float.floatToRawIntBits(gx[0][i]), Float.floatToRawIntBits(gx[1][i]),
                                g + " input gradient " + i);
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /** The scattering input gradient's GEMM (the output gradient read in place as A) as runs of tiles down the positions. */
    @Test
    void scatteringInputGradientGivesTheSameBitsWithAndWithoutTheCode() {
        ConvGeom[] geoms = {new ConvGeom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1), // LeNet-5's 6 -> 16
                new ConvGeom(2, 4, 11, 9, 24, 3, 3, 1, 1, 0, 0, 1, 1, 1)};
        for (ConvGeom g : geoms) {
            assertTrue(ConvScatterInput.can(g), g + " should take the scattering path");
            float[] w = randomFloats(rnd, g.oc() * g.c() * g.kh() * g.kw());
            float[] gy = randomFloats(rnd, g.n() * g.oc() * g.oh() * g.ow());
            float[][] gx = new float[2][g.n() * g.c() * g.h() * g.w()];
            for (int v = 0; v < 2; v++) {
                GemmJit.use(v == 1);
                ConvScatterInput.backwardInput(false, gx[v], gy, w, g);
            }
            for (int i = 0; i < gx[0].length; i++) {
                assertEquals(Float.floatToRawIntBits(gx[0][i]), Float.floatToRawIntBits(gx[1][i]), g + " input gradient " + i);
            }
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        int kc = 4;
        float[] ap = new float[2 * MR * kc];
        float[] b = new float[kc * NR];
        float[] c = new float[(2 * MR - 1) * NR + NR];
        GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 0, NR, MR * NR, kc, 2, false, null, 0, 0, false); // exactly fits
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 1, MR * kc, b, 0, NR, 0, c, 0, NR, MR * NR, kc, 2, false, null, 0, 0, false));
        assertTrue(e.getMessage().contains("2 tiles of 4 steps") && e.getMessage().contains("A 1+" + MR * kc),
                e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, MR * kc, b, 1, NR, 0, c, 0, NR, MR * NR, kc, 2, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, MR * kc, b, 0, NR + 1, 0, c, 0, NR, MR * NR, kc, 2, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 1, NR, MR * NR, kc, 2, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 0, NR, MR * NR, kc, 3, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 0, NR, MR * NR, 0, 2, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class,
                () -> GemmJit.tiles(ap, 0, -1, b, 0, NR, 0, c, 0, NR, MR * NR, kc, 2, false, null, 0, 0, false));
        assertThrows(IllegalArgumentException.class, () -> GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 0, NR,
                MR * NR, kc, 2, false, new float[NR], 0, 1, false));
        GemmJit.tiles(ap, 0, MR * kc, b, 0, NR, 0, c, 0, NR, MR * NR, kc, 2, false, new float[NR], 0, 0, true);
    }
}
