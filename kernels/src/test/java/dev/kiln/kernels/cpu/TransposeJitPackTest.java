package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.cpu.x86.TransposeCode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated 5-row strip packing ({@link TransposeJit#packRows5}: the GEMM's A strips where
 * tiles have 5 rows) against plain Java, bit for bit, nothing written but the strips and the 3
 * floats after each strip's last packed column that the code documents; and the checks that keep
 * bad arguments from reaching the code. Skipped where it cannot run (no AVX).
 */
class TransposeJitPackTest {
    private final SplittableRandom rnd = new SplittableRandom(53);

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(TransposeJit.PACK_ROWS5, "the generated 5-row packing cannot run here");
    }

    @Test
    void stripsMatchJavaLoops() {
        // blocks, strips, ld, strip stride: one block and strip; rows 4 KB apart (a GEMM's 1024-wide A, 19 strips
        // of a 96-row block packed back to back); odd strides; strips far apart
        int[][] shapes = {{1, 1, 8, 43}, {127, 19, 1024, 5 * 1024}, {3, 4, 29, 5 * 25}, {2, 3, 17, 200}};
        for (int[] s : shapes) {
            int blocks = s[0];
            int strips = s[1];
            int ld = s[2];
            int stride = s[3];
            int sOff = 3;
            int dOff = 2;
            float[] src = randomFloats(rnd, sOff + (5 * strips - 1) * ld + 8 * blocks + 1);
            float[] got = randomFloats(rnd, dOff + (strips - 1) * stride + 40 * blocks + 3 + 2);
            float[] want = got.clone();
            boolean[] free = new boolean[got.length];
            for (int t = 0; t < strips; t++) {
                for (int p = 0; p < 8 * blocks; p++) {
                    for (int i = 0; i < 5; i++) {
                        want[dOff + t * stride + p * 5 + i] = src[sOff + (5 * t + i) * ld + p];
                    }
                }
                for (int g = 0; g < 3; g++) {
                    free[dOff + t * stride + 40 * blocks + g] = true;
                }
            }
            TransposeJit.packRows5(got, dOff, stride, src, sOff, ld, blocks, strips);
            for (int i = 0; i < want.length; i++) {
                if (!free[i]) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            blocks + " blocks, " + strips + " strips, ld " + ld + ", stride " + stride + ": element " + i);
                }
            }
        }
    }

    /**
     * The per-thread segments kept for the last source and destination arrays: calls that
     * alternate between arrays (of the same and of other lengths), and a fresh array with the
     * contents of an old one, each read and write their own arrays.
     */
    @Test
    void alternatingArraysEachGetTheirOwnStrips() {
        int ld = 16;
        float[][] sources = {randomFloats(rnd, 5 * ld), randomFloats(rnd, 5 * ld), randomFloats(rnd, 5 * ld + 7)};
        float[][] dests = {new float[45], new float[45], new float[50]};
        for (int call = 0; call < 12; call++) {
            int a = call % 3;
            int d = (call / 2) % 3;
            float[] src = call == 11 ? sources[a].clone() : sources[a];
            java.util.Arrays.fill(dests[d], -1f);
            TransposeJit.packRows5(dests[d], 0, 43, src, 0, ld, 1, 1);
            for (int p = 0; p < 8; p++) {
                for (int i = 0; i < 5; i++) {
                    assertEquals(src[i * ld + p], dests[d][p * 5 + i], "call " + call + ": column " + p + ", row " + i);
                }
            }
            for (int o = 0; o < dests.length; o++) {
                if (o != d) {
                    java.util.Arrays.fill(dests[o], 7f);
                }
            }
        }
    }

    @Test
    void gemmPacksTheSameStripsEitherWay() {
        // GemmPack.packA on an untransposed A (the generated code where tiles have 5 rows) against the
        // transposed-A path on the transposed matrix (plain copies): same packed floats, including partial
        // strips and the columns past the last block of 8
        int lda = 70;
        float[] a = randomFloats(rnd, 40 * lda);
        float[] at = new float[lda * 40];
        for (int i = 0; i < 40; i++) {
            for (int p = 0; p < lda; p++) {
                at[p * 40 + i] = a[i * lda + p];
            }
        }
        for (int[] s : new int[][] {{0, 0, 23, 9}, {2, 1, 37, 64}, {5, 3, 35, 65}, {1, 0, 4, 17}, {0, 0, 10, 8}}) {
            int i0 = s[0], p0 = s[1], mc = s[2], kc = s[3];
            int strips = (mc + GemmMicro.MR - 1) / GemmMicro.MR;
            float[] got = new float[strips * GemmMicro.MR * kc];
            float[] want = new float[got.length];
            GemmPack.packA(got, false, a, 0, lda, i0, p0, mc, kc);
            GemmPack.packA(want, true, at, 0, 40, i0, p0, mc, kc);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                        "rows " + i0 + "+" + mc + ", columns " + p0 + "+" + kc + ": element " + i);
            }
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        float[] src = new float[10 * 16];
        float[] dst = new float[2 * 83];
        TransposeJit.packRows5(dst, 0, 83, src, 0, 16, 2, 2); // exactly fits: 80 floats and 3 more per strip
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransposeJit.packRows5(dst, 1, 83, src, 0, 16, 2, 2));
        assertTrue(e.getMessage().contains("2 strips of 2 blocks") && e.getMessage().contains("dst 1+83/166"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, 0, 83, src, 1, 16, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, 0, 82, src, 0, 16, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, 0, 83, src, 0, 15, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, 0, 83, src, 0, 16, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, 0, 83, src, 0, 16, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> TransposeJit.packRows5(dst, -1, 83, src, 0, 16, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> TransposeCode.packRows(4));
        assertThrows(IllegalArgumentException.class, () -> TransposeCode.packRows(9));
    }
}
