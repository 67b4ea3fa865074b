package dev.kiln.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link SparseCsr} and {@link BlockSparse}: conversions from and to dense, threshold semantics, validation. */
class SparseFormatTest {
    private static final int[][] SHAPES = {{0, 0}, {0, 5}, {5, 0}, {1, 1}, {1, 17}, {17, 1}, {7, 13}, {33, 31}};
    private static final int[][] BLOCKS = {{1, 1}, {1, 16}, {4, 1}, {4, 4}, {4, 16}, {3, 5}, {16, 1}};

    private final SplittableRandom rnd = new SplittableRandom(7);

    /** Uniform values in [-1, 1) with each element zeroed with probability {@code 1 - density}. */
    private float[] sparse(int n, double density) {
        float[] w = TestArrays.randomFloats(rnd, n);
        for (int i = 0; i < n; i++) {
            if (rnd.nextDouble() >= density) {
                w[i] = 0f;
            }
        }
        return w;
    }

    @Test
    void csrRoundTripsAtEveryDensity() {
        for (int[] s : SHAPES) {
            for (double d : new double[]{0, 0.05, 0.5, 1}) {
                float[] w = sparse(s[0] * s[1], d);
                SparseCsr csr = SparseCsr.fromDense(w, 0, s[0], s[1], 0f);
                String what = s[0] + "x" + s[1] + " density " + d;
                assertArrayEquals(w, csr.toDense(), what);
                long nonzero = count(w);
                assertEquals(nonzero, csr.nnz(), what);
                assertEquals(s[0] * s[1] == 0 ? 0 : (double) nonzero / (s[0] * s[1]), csr.density(), 1e-12, what);
                assertEquals(csr, new SparseCsr(s[0], s[1], csr.rowPtr().clone(), csr.colIdx().clone(),
                        csr.values().clone()), what);
            }
        }
    }

    @Test
    void csrThresholdKeepsStrictlyLargerMagnitudesAndNaN() {
        float[] w = {0.5f, -0.5f, 0.25f, -1f, 0f, Float.NaN, 2f, -0.4999f};
        SparseCsr csr = SparseCsr.fromDense(w, 0, 2, 4, 0.5f);
        assertArrayEquals(new int[]{0, 1, 3}, csr.rowPtr());
        assertArrayEquals(new int[]{3, 1, 2}, csr.colIdx());
        assertArrayEquals(new float[]{-1f, Float.NaN, 2f}, csr.values());
        SparseCsr all = SparseCsr.fromDense(w, 0, 2, 4, -1f);
        assertEquals(8, all.nnz());
        assertEquals(1.0, all.density());
        SparseCsr none = SparseCsr.fromDense(new float[]{0.5f, 1f}, 0, 1, 2, Float.POSITIVE_INFINITY);
        assertEquals(0, none.nnz());
    }

    @Test
    void csrFromDenseReadsAtTheOffsetAndWritesToDenseAtAnOffset() {
        float[] w = {9, 9, 9, 0, 1, 2, 0, 0, 3};
        SparseCsr csr = SparseCsr.fromDense(w, 3, 2, 3, 0f);
        assertArrayEquals(new int[]{0, 2, 3}, csr.rowPtr());
        float[] d = new float[8];
        Arrays.fill(d, 7f);
        csr.toDense(d, 1);
        assertArrayEquals(new float[]{7, 0, 1, 2, 0, 0, 3, 7}, d);
    }

    @Test
    void csrEmptyRowsAndAllZero() {
        float[] w = new float[6 * 9];
        w[2 * 9 + 4] = 1.5f;
        SparseCsr csr = SparseCsr.fromDense(w, 0, 6, 9, 0f);
        assertArrayEquals(new int[]{0, 0, 0, 1, 1, 1, 1}, csr.rowPtr());
        assertArrayEquals(w, csr.toDense());
        SparseCsr zero = SparseCsr.fromDense(new float[12], 0, 3, 4, 0f);
        assertEquals(0, zero.nnz());
        assertEquals(0.0, zero.density());
        assertArrayEquals(new float[12], zero.toDense());
    }

    @Test
    void blockRoundTripsForEveryBlockShape() {
        for (int[] s : SHAPES) {
            for (int[] b : BLOCKS) {
                for (double d : new double[]{0, 0.1, 0.5, 1}) {
                    float[] w = sparse(s[0] * s[1], d);
                    BlockSparse bs = BlockSparse.fromDense(w, 0, s[0], s[1], b[0], b[1], 0f);
                    String what = s[0] + "x" + s[1] + " blocks " + b[0] + "x" + b[1] + " density " + d;
                    assertArrayEquals(w, bs.toDense(), what);
                    assertEquals(expectedBlocks(w, s[0], s[1], b[0], b[1]), bs.blocks(), what);
                    assertTrue(bs.storedElements() >= count(w), what);
                    assertEquals(bs, new BlockSparse(s[0], s[1], b[0], b[1], bs.blockRowPtr().clone(),
                            bs.blockCol().clone(), bs.values().clone()), what);
                }
            }
        }
    }

    private static int expectedBlocks(float[] w, int rows, int cols, int br, int bc) {
        int blocks = 0;
        for (int r0 = 0; r0 < rows; r0 += br) {
            for (int c0 = 0; c0 < cols; c0 += bc) {
                boolean any = false;
                for (int r = r0; r < Math.min(rows, r0 + br); r++) {
                    for (int c = c0; c < Math.min(cols, c0 + bc); c++) {
                        any |= w[r * cols + c] != 0;
                    }
                }
                blocks += any ? 1 : 0;
            }
        }
        return blocks;
    }

    @Test
    void blockKeepsWholeBlocksAndPadsEdges() {
        float[] w = {
            0, 0, 0.1f, 0, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 3};
        BlockSparse bs = BlockSparse.fromDense(w, 0, 3, 5, 2, 2, 0.05f);
        assertArrayEquals(new int[]{0, 1, 2}, bs.blockRowPtr());
        assertArrayEquals(new int[]{1, 2}, bs.blockCol());
        assertArrayEquals(new float[]{0.1f, 0, 0, 0, 3, 0, 0, 0}, bs.values());
        assertEquals(4 + 1, bs.storedElements());
        assertEquals(5.0 / 15, bs.density(), 1e-12);
        BlockSparse none = BlockSparse.fromDense(w, 0, 3, 5, 2, 2, 3f);
        assertEquals(0, none.blocks());
        assertArrayEquals(new float[15], none.toDense());
        BlockSparse all = BlockSparse.fromDense(new float[15], 0, 3, 5, 2, 2, -1f);
        assertEquals(6, all.blocks());
        assertEquals(1.0, all.density());
    }

    @Test
    void equalityComparesContents() {
        float[] w = sparse(20, 0.5);
        SparseCsr a = SparseCsr.fromDense(w, 0, 4, 5, 0f);
        assertEquals(a.hashCode(), SparseCsr.fromDense(w, 0, 4, 5, 0f).hashCode());
        assertNotEquals(a, SparseCsr.fromDense(w, 0, 5, 4, 0f));
        assertTrue(a.toString().startsWith("SparseCsr[4x5, nnz="), a.toString());
        BlockSparse b = BlockSparse.fromDense(w, 0, 4, 5, 2, 2, 0f);
        assertEquals(b.hashCode(), BlockSparse.fromDense(w, 0, 4, 5, 2, 2, 0f).hashCode());
        assertNotEquals(b, BlockSparse.fromDense(w, 0, 4, 5, 2, 1, 0f));
    }

    @Test
    void invalidStructuresAndArgumentsAreRejected() {
        assertMessage("rowPtr of rows + 1", () -> new SparseCsr(2, 2, new int[]{0, 0}, new int[0], new float[0]));
        assertMessage("rowPtr[0] = 0", () -> new SparseCsr(1, 2, new int[]{1, 1}, new int[0], new float[0]));
        assertMessage("rowPtr decreases at row 1",
                () -> new SparseCsr(2, 2, new int[]{0, 1, 0}, new int[0], new float[0]));
        assertMessage("strictly increasing columns",
                () -> new SparseCsr(1, 3, new int[]{0, 2}, new int[]{1, 1}, new float[2]));
        assertMessage("strictly increasing columns",
                () -> new SparseCsr(1, 3, new int[]{0, 1}, new int[]{3}, new float[1]));
        assertMessage("colIdx and values", () -> new SparseCsr(1, 3, new int[]{0, 1}, new int[]{0}, new float[2]));
        assertMessage("expected rows, cols >= 0", () -> new SparseCsr(-1, 3, new int[0], new int[0], new float[0]));
        assertMessage("w too small", () -> SparseCsr.fromDense(new float[5], 0, 2, 3, 0f));
        assertMessage("threshold", () -> SparseCsr.fromDense(new float[6], 0, 2, 3, Float.NaN));
        assertMessage("offset >= 0", () -> SparseCsr.fromDense(new float[6], -1, 2, 3, 0f));
        assertMessage("d too small", () -> SparseCsr.fromDense(new float[6], 0, 2, 3, 0f).toDense(new float[6], 1));
        assertMessage("blocks >= 1x1", () -> BlockSparse.fromDense(new float[6], 0, 2, 3, 0, 1, 0f));
        assertMessage("BlockSparse.fromDense: w too small",
                () -> BlockSparse.fromDense(new float[5], 0, 2, 3, 1, 1, 0f));
        assertMessage("blockRowPtr of ceil(rows/blockRows) + 1 = 2",
                () -> new BlockSparse(3, 3, 4, 1, new int[]{0, 0, 0}, new int[0], new float[0]));
        assertMessage("strictly increasing block columns in [0, 1)",
                () -> new BlockSparse(3, 3, 4, 4, new int[]{0, 1}, new int[]{1}, new float[16]));
        assertMessage("1 block columns and 16 values",
                () -> new BlockSparse(3, 3, 4, 4, new int[]{0, 1}, new int[]{0}, new float[9]));
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private static long count(float[] w) {
        long n = 0;
        for (float v : w) {
            n += v != 0 ? 1 : 0;
        }
        return n;
    }
}
