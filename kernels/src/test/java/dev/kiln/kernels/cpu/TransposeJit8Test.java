package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated {@code 8 x 8} transpose of AVX2 machines ({@link TransposeJit#transpose8}) against
 * plain Java loops, bit for bit, with nothing outside the blocks written, with its blocks down the
 * columns and along the rows; {@code sgemm} and a
 * convolution weight gradient (whose packing transposes go through it) the same bits with and
 * without it; and the checks that keep bad arguments from reaching the code. Skipped where the
 * code cannot run (no AVX, or the 16 x 16 code runs instead: {@link TransposeJitTest}).
 */
class TransposeJit8Test {
    private final SplittableRandom rnd = new SplittableRandom(29);

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(TransposeJit.SUPPORTED8, "the generated 8 x 8 transpose cannot run here");
    }

    @AfterEach
    void restore() {
        TransposeJit.use(TransposeJit.ENABLED || TransposeJit.SUPPORTED8);
    }

    private static void assertSameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }

    @Test
    void blocksMatchJavaLoops() {
        // rows, cols, ld, dStride: one block, strides of whole blocks, odd strides, a 1024-float (4 KB) stride
        int[][] shapes = {{8, 8, 8, 8}, {16, 24, 24, 16}, {24, 40, 43, 29}, {8, 64, 1024, 9}, {40, 8, 9, 1024},
                {16, 1024, 1024, 16}, {24, 16, 40, 24}};
        for (boolean rowsOuter : new boolean[] {false, true}) {
            for (int[] s : shapes) {
                int rows = s[0];
                int cols = s[1];
                int ld = s[2];
                int stride = s[3];
                int sOff = 5;
                int dOff = 3;
                float[] src = randomFloats(rnd, sOff + rows * ld);
                float[] got = randomFloats(rnd, dOff + cols * stride + 4);
                float[] want = got.clone();
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        want[dOff + c * stride + r] = src[sOff + r * ld + c];
                    }
                }
                TransposeJit.transpose8(rowsOuter, got, dOff, stride, src, sOff, ld, rows / 8, cols / 8);
                assertSameBits(rows + " x " + cols + ", ld " + ld + ", stride " + stride
                        + (rowsOuter ? ", along the rows" : ", down the columns"), want, got);
            }
        }
    }

    @Test
    void leadingBlocksLeaveTheRestToTheCaller() {
        TransposeJit.use(true);
        assertEquals(8, TransposeJit.block());
        float[] src = randomFloats(rnd, 21 * 30);
        float[] dst = new float[30 * 21];
        assertEquals(16, TransposeJit.leadingBlocks(dst, 0, 21, src, 0, 30, 21, 30));
        for (int r = 0; r < 21; r++) {
            for (int c = 0; c < 30; c++) {
                float want = r < 16 && c < 24 ? src[r * 30 + c] : 0f;
                assertEquals(want, dst[c * 21 + r], "row " + r + ", column " + c);
            }
        }
        assertEquals(0, TransposeJit.leadingBlocks(dst, 0, 21, src, 0, 30, 7, 30));
        TransposeJit.use(false);
        assertEquals(0, TransposeJit.block());
        assertEquals(0, TransposeJit.leadingBlocks(dst, 0, 21, src, 0, 30, 21, 30));
    }

    @Test
    void gemmAndConvolutionAreTheSameWithAndWithoutTheCode() {
        int[][] shapes = {{64, 300, 784}, {64, 1024, 1024}, {37, 48, 50}, {16, 33, 17}, {130, 70, 96}};
        int saved = Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                TransposeJitTest.gemmKeepsItsBits(rnd, shapes, threads);
                dev.kiln.kernels.ConvGeom g = new dev.kiln.kernels.ConvGeom(3, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                float[][] gw = new float[2][(int) g.wSize()];
                for (int v = 0; v < 2; v++) {
                    TransposeJit.use(v == 0);
                    Conv.conv2dBackwardWeight(gw[v], null, x, gy, g);
                }
                assertSameBits("conv weight gradient " + g + ", " + threads + " threads", gw[1], gw[0]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        float[] src = new float[16 * 16];
        float[] dst = new float[16 * 16];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.transpose8(dst, 1, 16, src, 0, 16, 2, 2));
        assertTrue(e.getMessage().contains("2 x 2 blocks of 8") && e.getMessage().contains("dst 1+16/256"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.transpose8(dst, 0, 16, src, 0, 17, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.transpose8(dst, 16 * 15, -16, src, 0, 16, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.transpose8(dst, 0, 16, src, 0, 16, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.transpose8(dst, 0, 16, src, -1, 16, 1, 1));
    }
}
