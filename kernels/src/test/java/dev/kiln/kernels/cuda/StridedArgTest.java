package dev.kiln.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Strides struct the elementwise kernels read: layout, merging of dims, limits. */
class StridedArgTest {
    private static final int ST = 1 + StridedArg.MAX_RANK;
    private static final int OFF = ST + StridedArg.MAX_OPS * StridedArg.MAX_RANK;

    @Test
    void contiguousOperandsMergeIntoOneDim() {
        int[] shape = {2, 3, 4};
        int[] c = StridedArg.contiguous(shape);
        int[] f = StridedArg.of(shape, new int[][] {c, c}, new int[] {0, 5});
        assertEquals(45, f.length, "rank, shape[8], st[4][8], off[4]");
        assertEquals(1, f[0]);
        assertEquals(24, f[1]);
        assertEquals(1, f[ST]);
        assertEquals(1, f[ST + StridedArg.MAX_RANK]);
        assertEquals(0, f[OFF]);
        assertEquals(5, f[OFF + 1]);
    }

    @Test
    void broadcastBiasKeepsTwoDims() {
        int[] shape = {1, 8, 16};
        int[] out = StridedArg.contiguous(shape);
        int[] bias = {0, 0, 1};
        int[] f = StridedArg.of(shape, new int[][] {out, out, bias}, new int[] {0, 0, 3});
        assertEquals(2, f[0]);
        assertArrayEquals(new int[] {8, 16}, new int[] {f[1], f[2]});
        assertArrayEquals(new int[] {16, 1}, new int[] {f[ST], f[ST + 1]});
        assertArrayEquals(new int[] {0, 1}, new int[] {f[ST + 2 * StridedArg.MAX_RANK], f[ST + 2 * StridedArg.MAX_RANK + 1]});
        assertEquals(3, f[OFF + 2]);
    }

    @Test
    void transposedViewIsNotMerged() {
        int[] shape = {3, 4};
        int[] f = StridedArg.of(shape, new int[][] {StridedArg.contiguous(shape), {1, 3}}, new int[] {0, 0});
        assertEquals(2, f[0]);
        assertArrayEquals(new int[] {1, 3}, new int[] {f[ST + StridedArg.MAX_RANK], f[ST + StridedArg.MAX_RANK + 1]});
    }

    @Test
    void tooManyIrregularDimsOrOperandsAreRejected() {
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        int[] st = {1, 2, 4, 8, 16, 32, 64, 128, 256};
        assertThrows(IllegalArgumentException.class, () -> StridedArg.of(shape, new int[][] {st}, new int[] {0}));
        int[] c = StridedArg.contiguous(new int[] {4});
        assertThrows(IllegalArgumentException.class,
                () -> StridedArg.of(new int[] {4}, new int[][] {c, c, c, c, c}, new int[] {0, 0, 0, 0, 0}));
        assertEquals(0, StridedArg.of(new int[] {1, 1}, new int[][] {{1, 1}}, new int[] {0})[0], "all size-1 dims drop");
    }
}
