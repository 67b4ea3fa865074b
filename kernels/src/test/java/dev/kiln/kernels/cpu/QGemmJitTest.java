package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.kernels.ref.RefQGemm;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every {@link QGemmTest} case again with the VNNI kernel forced for all shapes
 * ({@link QGemmJit.Mode#JIT}; {@link QGemmTest} itself forces the Vector API kernels), plus
 * shapes at the edges of the JIT blocking (64-row strips, 16-row vectors, 6-column tiles, 48-column
 * blocks, 4-byte k-quads, 64-byte k-chunks and groups of 4 rows of the few-row kernel, B ending at
 * its array's end). Skipped where the VNNI code cannot run.
 */
class QGemmJitTest extends QGemmTest {
    @Override
    @BeforeEach
    void forcePath() {
        Assumptions.assumeTrue(QGemmJit.SUPPORTED, "no AVX512_VNNI code here (CPU, OS or native access)");
        QGemmJit.mode = QGemmJit.Mode.JIT;
    }

    @AfterEach
    void restorePath() {
        QGemmJit.mode = QGemmJit.Mode.AUTO;
    }

    private static byte[] bytes(SplittableRandom rnd, int n) {
        byte[] x = new byte[n];
        for (int i = 0; i < n; i++) {
            x[i] = (byte) rnd.nextInt(256);
        }
        return x;
    }

    @Test
    void blockingEdgesMatchReference() {
        edgesMatchReference(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 63, 64, 65, 80, 129, 520},
                new int[] {1, 5, 6, 7, 47, 48, 49, 97}, new int[] {1, 2, 3, 4, 5, 7, 63, 64, 65, 127, 128, 129, 259});
    }

    @Test
    void extremeValuesMatchReference() {
        extremesMatchReference(new int[] {3, 7, 11, 65});
    }

    /**
     * {@code gemmS32} against the reference on every {@code ms x ns x ks} shape up to 2M
     * multiply-adds (a third of those past 100 rows), uint8 and int8 alternately, with tight
     * layouts (B ending at its array's end) and padded leading dims and offsets.
     */
    static void edgesMatchReference(int[] ms, int[] ns, int[] ks) {
        SplittableRandom rnd = new SplittableRandom(11);
        int variant = 0;
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    if ((long) m * n * k > 2_000_000 || variant++ % 3 != 0 && m > 100) {
                        continue;
                    }
                    boolean unsigned = variant % 2 == 0;
                    int zp = unsigned ? rnd.nextInt(256) : rnd.nextInt(-128, 128);
                    // tight layout (B ends at the array's end) and padded leading dims, alternately
                    int pad = variant % 4 == 0 ? 0 : 3;
                    int off = variant % 5 == 0 ? 0 : 2;
                    byte[] a = bytes(rnd, off + m * (k + pad));
                    byte[] b = bytes(rnd, off + n * (k + pad) - pad);
                    int[] want = new int[m * n];
                    int[] got = new int[m * n];
                    RefQGemm.gemmS32(want, 0, n, a, off, k + pad, unsigned, zp, b, off, k + pad, m, n, k);
                    QGemm.gemmS32(got, 0, n, a, off, k + pad, unsigned, zp, b, off, k + pad, m, n, k);
                    assertArrayEquals(want, got, "m=" + m + " n=" + n + " k=" + k + (unsigned ? " uint8" : " int8")
                            + " zpA=" + zp + " pad=" + pad + " off=" + off);
                }
            }
        }
    }

    /** Activations all at the top of their range against weights all -128, at both extreme zero points. */
    static void extremesMatchReference(int[] ms) {
        for (int k : new int[] {1, 3, 4, 1023, 4099}) {
            for (boolean unsigned : new boolean[] {true, false}) {
                for (int m : ms) {
                int n = 13;
                byte[] a = new byte[m * k];
                byte[] b = new byte[n * k];
                Arrays.fill(a, unsigned ? (byte) 255 : (byte) 127);
                Arrays.fill(b, (byte) -128);
                for (int zp : unsigned ? new int[] {0, 255} : new int[] {-128, 127}) {
                    int[] want = new int[m * n];
                    int[] got = new int[m * n];
                    RefQGemm.gemmS32(want, 0, n, a, 0, k, unsigned, zp, b, 0, k, m, n, k);
                    QGemm.gemmS32(got, 0, n, a, 0, k, unsigned, zp, b, 0, k, m, n, k);
                    assertArrayEquals(want, got, "all " + (unsigned ? "255" : "127") + " x -128, m=" + m + " k=" + k
                            + " zpA=" + zp);
                }
                }
            }
        }
    }
}
