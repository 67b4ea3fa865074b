package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.cpu.x86.TransposeCode.Mode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated transposes ({@link TransposeJit}) against plain Java loops in each mode, bit for
 * bit, and its interleave of 8 rows; {@code sgemm} (whose packing transposes go through it) the
 * same bits with and without it; {@link ConvDirect#transpose} with them and without them on shapes with rows and columns
 * past the 16 x 16 blocks; {@link ConvDirect}'s three passes (bias, accumulated input gradient,
 * positions per image not a multiple of 16) the same bits either way; and the checks that keep bad
 * arguments from reaching the code. Skipped where the code cannot run.
 */
class TransposeJitTest {
    private final SplittableRandom rnd = new SplittableRandom(23);

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(TransposeJit.SUPPORTED, "the generated transpose cannot run here");
    }

    @AfterEach
    void restore() {
        TransposeJit.use(TransposeJit.ENABLED);
    }

    private static void assertSameBits(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }

    @Test
    void eachModeMatchesJavaLoops() {
        int[][] shapes = {{16, 16, 16, 16}, {32, 48, 50, 35}, {64, 32, 32, 64}, {16, 80, 81, 17}, {48, 16, 19, 200}};
        for (int[] s : shapes) {
            int rows = s[0];
            int cols = s[1];
            int ld = s[2];
            int stride = s[3];
            int sOff = 5;
            int dOff = 7;
            float[] src = randomFloats(rnd, sOff + rows * ld);
            float[] bias = randomFloats(rnd, cols + 3);
            for (Mode mode : Mode.values()) {
                float[] got = randomFloats(rnd, dOff + cols * stride + 2);
                float[] want = got.clone();
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float v = src[sOff + r * ld + c];
                        int d = dOff + c * stride + r;
                        want[d] = mode == Mode.WRITE ? v : mode == Mode.BIAS ? v + bias[3 + c] : want[d] + v;
                    }
                }
                TransposeJit.transpose(mode, got, dOff, stride, src, sOff, ld, rows / 16, cols / 16,
                        mode == Mode.BIAS ? bias : null, 3);
                assertSameBits(mode + " " + rows + "x" + cols + " ld " + ld + " stride " + stride, want, got);
            }
        }
    }

    @Test
    void interleaveMatchesJavaLoops() {
        int[][] shapes = {{1, 16}, {3, 50}, {12, 196}, {49, 784}};
        for (int[] s : shapes) {
            int blocks = s[0];
            int ld = s[1];
            float[] src = randomFloats(rnd, 3 + 7 * ld + 16 * blocks + 1);
            float[] got = randomFloats(rnd, 5 + 128 * blocks + 2);
            float[] want = got.clone();
            for (int p = 0; p < 16 * blocks; p++) {
                for (int k = 0; k < 8; k++) {
                    want[5 + p * 8 + k] = src[3 + k * ld + p];
                }
            }
            TransposeJit.interleave8(got, 5, src, 3, ld, blocks);
            assertSameBits("interleave of " + blocks + " x 16 positions, ld " + ld, want, got);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.interleave8(new float[128], 1, new float[200], 0, 16, 1));
        assertTrue(e.getMessage().contains("dst 1/128"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.interleave8(new float[128], 0, new float[127], 0, 16, 1));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.interleave8(new float[128], 0, new float[200], 0, -1, 1));
    }

    @Test
    void convTransposeIsTheSameWithAndWithoutTheCode() {
        int[][] shapes = {{64, 32}, {196, 32}, {32, 196}, {17, 33}, {15, 40}, {40, 15}, {100, 16}, {32, 7}, {8, 64}};
        for (int[] s : shapes) {
            int rows = s[0];
            int cols = s[1];
            int ld = cols + 3;
            int stride = rows + 5;
            float[] src = randomFloats(rnd, 2 + rows * ld);
            float[] init = randomFloats(rnd, 1 + cols * stride);
            float[] jit = init.clone();
            float[] vec = init.clone();
            float[] loop = init.clone();
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    loop[1 + c * stride + r] = src[2 + r * ld + c];
                }
            }
            TransposeJit.use(true);
            ConvDirect.transpose(jit, 1, stride, src, 2, ld, rows, cols);
            TransposeJit.use(false);
            ConvDirect.transpose(vec, 1, stride, src, 2, ld, rows, cols);
            assertSameBits("generated " + rows + "x" + cols, loop, jit);
            assertSameBits("Vector API " + rows + "x" + cols, loop, vec);
        }
    }

    @Test
    void directConvolutionIsTheSameWithAndWithoutTheCode() {
        ConvGeom[] gs = {
                new ConvGeom(3, 32, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 16, 6, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(3, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1),
                new ConvGeom(2, 64, 4, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                // weight gradient: planes of 35 positions (two sixteens and 3 left), 8 (none: row by row)
                new ConvGeom(2, 16, 5, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 8, 2, 4, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)};
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(2);
            int exercised = 0;
            for (ConvGeom g : gs) {
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                float[] gx0 = randomFloats(rnd, (int) g.xSize());
                float[][][] out = new float[2][][];
                for (int v = 0; v < 2; v++) {
                    TransposeJit.use(v == 0);
                    float[] y = new float[(int) g.ySize()];
                    float[] gx = gx0.clone();
                    float[] gw = new float[(int) g.wSize()];
                    float[] gb = new float[g.oc()];
                    boolean fwd = ConvDirect.canForward(g) && ConvDirect.conv2d(y, x, w, bias, g);
                    boolean in = ConvDirect.suitsInput(g) && ConvDirect.conv2dBackwardInput(true, gx, gy, w, g);
                    boolean wt = ConvDirect.suitsWeight(g) && ConvDirect.conv2dBackwardWeight(gw, gb, x, gy, g);
                    exercised += (fwd ? 1 : 0) + (in ? 1 : 0) + (wt ? 1 : 0);
                    out[v] = new float[][]{y, gx, gw, gb};
                }
                String[] names = {"forward with bias", "accumulated input gradient", "weight gradient", "bias gradient"};
                for (int k = 0; k < names.length; k++) {
                    assertSameBits(names[k] + " " + g, out[1][k], out[0][k]);
                }
            }
            assertTrue(exercised >= 2 * 12, "direct passes exercised: " + exercised);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void gemmIsTheSameWithAndWithoutTheCode() {
        int[][] shapes = {{64, 300, 784}, {37, 48, 50}, {16, 33, 17}, {130, 70, 96}};
        int saved = Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                gemmKeepsItsBits(rnd, shapes, threads);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * {@code sgemm} on each {@code m, n, k} shape, all four transpositions, the same bits with the
     * generated transposes on and off ({@link TransposeJit#use}); {@code threads} only names the
     * thread count the caller set. Shared with {@link TransposeJit8Test}.
     */
    static void gemmKeepsItsBits(SplittableRandom rnd, int[][] shapes, int threads) {
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] a = randomFloats(rnd, m * k);
            float[] b = randomFloats(rnd, k * n);
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0;
                boolean tb = (t & 2) != 0;
                float[][] c = new float[2][m * n];
                for (int v = 0; v < 2; v++) {
                    TransposeJit.use(v == 0);
                    Gemm.sgemm(false, c[v], 0, n, ta, a, 0, ta ? m : k, tb, b, 0, tb ? k : n, m, n, k);
                }
                assertSameBits("sgemm " + m + "x" + n + "x" + k + " transA " + ta + " transB " + tb + ", "
                        + threads + " threads", c[1], c[0]);
            }
        }
    }

    @Test
    void stridesThatShareCacheSetsStayOnTheVectorApi() {
        TransposeJit.use(true);
        assertTrue(TransposeJit.suits(784, 32));
        assertTrue(!TransposeJit.suits(1024, 32) && !TransposeJit.suits(32, 512) && !TransposeJit.suits(-3, 32));
        TransposeJit.use(false);
        assertTrue(!TransposeJit.suits(784, 32));
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        float[] src = new float[32 * 32];
        float[] dst = new float[32 * 32];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.WRITE, dst, 1, 32, src, 0, 32, 2, 2, null, 0));
        assertTrue(e.getMessage().contains("2 x 2 blocks") && e.getMessage().contains("dst 1+32/1024"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.WRITE, dst, 0, 32, src, 0, 33, 2, 2, null, 0));
        assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.WRITE, dst, 32 * 31, -32, src, 0, 32, 2, 2, null, 0));
        assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.WRITE, dst, 0, 32, src, 0, 32, 0, 2, null, 0));
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.BIAS, dst, 0, 32, src, 0, 32, 2, 2, null, 0));
        assertTrue(b.getMessage().contains("bias 0/null"), b.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose(Mode.BIAS, dst, 0, 32, src, 0, 32, 2, 2, new float[31], 0));
    }
}
