package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InMemoryDatasetTest {
    /** n samples of shape [2]: sample i is {10 i, 10 i + 1}, label i. */
    static InMemoryDataset numbered(int n) {
        float[] data = new float[2 * n];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            data[2 * i] = 10 * i;
            data[2 * i + 1] = 10 * i + 1;
            labels[i] = i;
        }
        return new InMemoryDataset(data, new int[] {2}, labels);
    }

    @Test
    void samplesAndLabelsAreReadBack() {
        InMemoryDataset ds = numbered(4);
        float[] dst = new float[5];
        ds.copySample(2, dst, 3);
        assertArrayEquals(new float[] {0, 0, 0, 20, 21}, dst);
        assertEquals(3, ds.label(3));
        assertEquals(4, ds.size());
        assertEquals(2, ds.sampleSize());
        assertArrayEquals(new int[] {2}, ds.sampleShape());
    }

    @Test
    void constructorCopiesItsInputs() {
        float[] data = {1, 2};
        long[] labels = {7};
        InMemoryDataset ds = new InMemoryDataset(data, new int[] {2}, labels);
        data[0] = 99;
        labels[0] = 99;
        assertArrayEquals(new float[] {1, 2}, ds.data());
        assertEquals(7, ds.label(0));
    }

    @Test
    void sizesAreValidated() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset(new float[7], new int[] {1, 2, 2}, new long[2]));
        assertEquals("InMemoryDataset: 2 labels of sample shape [1, 2, 2] need 8 floats, got 7", e.getMessage());
        var z = assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset(new float[0], new int[] {3, 0}, new long[1]));
        assertEquals("InMemoryDataset: expected sample dimensions >= 1, got [3, 0]", z.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new InMemoryDataset(new float[0], new int[0], new long[0]));
        var oob = assertThrows(IndexOutOfBoundsException.class, () -> numbered(3).label(3));
        assertEquals("sample 3 is outside the dataset of 3 samples", oob.getMessage());
    }

    @Test
    void subsetTakesTheGivenSamplesInOrder() {
        InMemoryDataset sub = numbered(5).subset(new int[] {4, 1, 1});
        assertArrayEquals(new float[] {40, 41, 10, 11, 10, 11}, sub.data());
        assertArrayEquals(new long[] {4, 1, 1}, sub.labels());
        var e = assertThrows(IndexOutOfBoundsException.class, () -> numbered(5).subset(new int[] {0, 5}));
        assertEquals("subset: index 5 at position 1 is outside the dataset of 5 samples", e.getMessage());
    }

    @Test
    void splitIsDisjointCompleteAndSeeded() {
        InMemoryDataset ds = numbered(10);
        Split a = ds.split(0.7, 3);
        assertEquals(7, a.train().size());
        assertEquals(3, a.test().size());
        Set<Long> seen = new HashSet<>();
        for (Dataset part : new Dataset[] {a.train(), a.test()}) {
            for (int i = 0; i < part.size(); i++) {
                assertTrue(seen.add(part.label(i)), "label " + part.label(i) + " appears twice");
                float[] x = new float[2];
                part.copySample(i, x, 0);
                assertArrayEquals(new float[] {10 * part.label(i), 10 * part.label(i) + 1}, x);
            }
        }
        assertEquals(10, seen.size());
        Split again = ds.split(0.7, 3);
        assertArrayEquals(((InMemoryDataset) a.train()).labels(), ((InMemoryDataset) again.train()).labels());
        Split other = ds.split(0.7, 4);
        assertTrue(!Arrays.equals(((InMemoryDataset) a.train()).labels(), ((InMemoryDataset) other.train()).labels()));
    }

    /** Sizes as torch.utils.data.random_split(range(n), [f, 1 - f]) gives them in PyTorch 1.13. */
    @Test
    void splitSizesFollowPyTorchRandomSplit() {
        assertEquals(4, numbered(10).split(0.35, 0).train().size());
        assertEquals(3, numbered(10).split(0.3, 0).train().size());
        assertEquals(4, numbered(10).split(0.33, 0).train().size());
        assertEquals(7, numbered(7).split(0.9, 0).train().size());
        assertEquals(1, numbered(7).split(0.1, 0).train().size());
        assertEquals(4, numbered(7).split(0.55, 0).train().size());
        assertEquals(0, numbered(10).split(0, 0).train().size());
        assertEquals(10, numbered(10).split(1, 0).train().size());
        assertThrows(IllegalArgumentException.class, () -> numbered(10).split(1.5, 0));
    }
}
