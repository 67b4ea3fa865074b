package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ref.RefQGemm;
import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every {@link QGemmTest} case again on the AVX2 {@code vpmaddwd} kernels forced for all shapes
 * ({@link QGemmJit.Mode#MADD}), plus shapes at the edges of their blocking: the lanes-along-k kernel
 * below 32 rows (groups of 4 rows, 3 columns, 16-byte steps, B ending at its array), 6-row tiles, 8-column
 * vectors, 16-column panels, 32-column blocks, 256-row accumulator tiles, odd k (a half pair),
 * k whose pairs fill whole 1 KB rows (the padded row stride). Skipped where AVX2 code cannot run.
 */
class QGemmMaddTest extends QGemmTest {
    @Override
    @BeforeEach
    void forcePath() {
        Assumptions.assumeTrue(QGemmMadd.SUPPORTED, "no AVX2 code here (CPU, OS or native access)");
        QGemmJit.mode = QGemmJit.Mode.MADD;
    }

    @AfterEach
    void restorePath() {
        QGemmJit.mode = QGemmJit.Mode.AUTO;
    }

    @Test
    void blockingEdgesMatchReference() {
        QGemmJitTest.edgesMatchReference(new int[] {1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 36, 41, 42, 63, 64, 65, 255, 256, 257, 515},
                new int[] {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 73, 97}, new int[] {1, 2, 3, 15, 16, 17, 31, 33, 512, 513});
    }

    @Test
    void extremeValuesMatchReference() {
        QGemmJitTest.extremesMatchReference(new int[] {3, 4, 9, 65, 257});
    }

    @Test
    void rowStrideSkipsWholeKilobytes() {
        assertEquals(528, QGemmMadd.pairStride(256));
        assertEquals(1040, QGemmMadd.pairStride(512));
        assertEquals(784, QGemmMadd.pairStride(392));
        assertEquals(16, QGemmMadd.pairStride(1));
    }

    /**
     * Activations in {@code [0, 127]} (uint8 after dynamic quantization with PyTorch's
     * {@code reduce_range}) against prepacked weights take the byte kernel ({@code vpmaddubsw}):
     * the reference at the byte kernel's blocking edges (4-row tiles, 16-column panels, k-quads and
     * their tails, 256-row accumulator tiles) and at the extremes (every pair 2 x 127 x -128 =
     * -32512, the most that does not saturate 16 bits), at zero points 0, 127 and 255.
     */
    @Test
    void sevenBitActivationsOnTheByteKernelMatchReference() {
        assertTrue(QGemmMadd.sevenBit(new byte[] {0, 127, 5}, 0, 3, true, 1, 3));
        assertFalse(QGemmMadd.sevenBit(new byte[] {0, 1, (byte) 128}, 0, 3, true, 1, 3), "128 in the tail");
        byte[] wide = new byte[70];
        wide[33] = (byte) 200;
        assertFalse(QGemmMadd.sevenBit(wide, 0, 70, true, 1, 70), "200 in a vector");
        assertFalse(QGemmMadd.sevenBit(new byte[] {0, 1}, 0, 2, false, 1, 2), "int8 activations");
        SplittableRandom rnd = new SplittableRandom(5);
        int variant = 0;
        for (int m : new int[] {1, 3, 4, 5, 8, 9, 33, 64, 65, 257}) {
            for (int n : new int[] {1, 8, 15, 16, 17, 32, 33, 49}) {
                for (int k : new int[] {1, 3, 4, 5, 31, 32, 33, 1023, 1024}) {
                    if ((long) m * n * k > 1_000_000) {
                        continue;
                    }
                    boolean extreme = variant % 7 == 0;
                    int pad = variant % 2 == 0 ? 0 : 3;
                    int zp = variant % 3 == 0 ? 0 : variant % 3 == 1 ? 127 : 255;
                    variant++;
                    byte[] a = new byte[m * (k + pad)];
                    byte[] b = new byte[n * k];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (byte) (extreme ? 127 : rnd.nextInt(128));
                    }
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (byte) (extreme ? -128 : rnd.nextInt(-128, 128));
                    }
                    int[] want = new int[m * n];
                    int[] got = new int[m * n];
                    Arrays.fill(got, 0x5a5a5a5a);
                    RefQGemm.gemmS32(want, 0, n, a, 0, k + pad, true, zp, b, 0, k, m, n, k);
                    QGemm.gemmS32(got, 0, n, a, 0, k + pad, true, zp, QGemm.packWeights(b, 0, k, n, k), m);
                    assertArrayEquals(want, got, "m=" + m + " n=" + n + " k=" + k + " zpA=" + zp + " pad=" + pad
                            + (extreme ? " (127 x -128)" : ""));
                }
            }
        }
    }
}
