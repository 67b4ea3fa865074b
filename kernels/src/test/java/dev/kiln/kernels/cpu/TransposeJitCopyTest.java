package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;

/**
 * The generated strip copy ({@link TransposeJit#copyStrips}: rows of 16 floats of an untransposed B
 * into packed strips, in bands of 8 rows) against plain Java, bit for bit, nothing else written; and
 * the checks that keep bad arguments from reaching the code. Skipped where it cannot run (no AVX).
 */
class TransposeJitCopyTest {
    private final SplittableRandom rnd = new SplittableRandom(31);

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(TransposeJit.COPY_STRIPS, "the generated strip copy cannot run here");
    }

    @Test
    void stripsMatchJavaLoops() {
        // bands, strips, ld, strip stride: one band and strip; rows 4 KB apart; odd strides; strips packed
        // back to back (stride = rows * 16, as GemmPack packs them)
        int[][] shapes = {{1, 1, 16, 128}, {128, 64, 1024, 128 * 8 * 16}, {3, 5, 83, 3 * 8 * 16 + 7}, {2, 2, 33, 300}};
        for (int[] s : shapes) {
            int bands = s[0];
            int strips = s[1];
            int ld = s[2];
            int stride = s[3];
            int rows = 8 * bands;
            int sOff = 5;
            int dOff = 3;
            float[] src = randomFloats(rnd, sOff + (rows - 1) * ld + 16 * strips + 2);
            float[] got = randomFloats(rnd, dOff + (strips - 1) * stride + rows * 16 + 4);
            float[] want = got.clone();
            for (int t = 0; t < strips; t++) {
                for (int p = 0; p < rows; p++) {
                    for (int j = 0; j < 16; j++) {
                        want[dOff + t * stride + p * 16 + j] = src[sOff + p * ld + t * 16 + j];
                    }
                }
            }
            TransposeJit.copyStrips(got, dOff, stride, src, sOff, ld, bands, strips);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                        bands + " bands, " + strips + " strips, ld " + ld + ", stride " + stride + ": element " + i);
            }
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        float[] src = new float[8 * 32];
        float[] dst = new float[2 * 8 * 16];
        TransposeJit.copyStrips(dst, 0, 128, src, 0, 32, 1, 2); // exactly fits
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.copyStrips(dst, 1, 128, src, 0, 32, 1, 2));
        assertTrue(e.getMessage().contains("1 bands of 8 rows, 2 strips") && e.getMessage().contains("dst 1+128/256"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, 0, 128, src, 1, 32, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, 0, 128, src, 0, 33, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, 0, 128, src, 0, 32, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, 0, 128, src, 0, 32, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, -1, 128, src, 0, 32, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.copyStrips(dst, 0, -128, src, 0, 32, 1, 2));
    }
}
