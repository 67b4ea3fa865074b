package dev.kiln.nn.data;

import dev.kiln.engine.Generator;
import java.util.Arrays;

/**
 * A dataset held in one row-major {@code float[]}: sample {@code i} is the {@code sampleSize()}
 * floats starting at {@code i * sampleSize()}, with label {@code labels[i]}. The arrays are
 * copied in, so later changes to the caller's arrays do not reach the dataset.
 *
 * <pre>{@code
 * var ds = new InMemoryDataset(pixels, new int[] {1, 28, 28}, labels);
 * Split parts = ds.split(0.9, 42);              // 90% train, 10% validation, seeded
 * }</pre>
 */
public final class InMemoryDataset implements Dataset {
    private final float[] data;
    private final int[] sampleShape;
    private final long[] labels;
    private final int sampleSize;

    /**
     * @param data {@code labels.length * prod(sampleShape)} floats, row-major
     * @param sampleShape the shape of one sample; every dimension at least 1
     * @param labels one label per sample
     */
    public InMemoryDataset(float[] data, int[] sampleShape, long[] labels) {
        this(data.clone(), sampleShape.clone(), labels.clone(), checkedSampleSize(data, sampleShape, labels));
    }

    private InMemoryDataset(float[] data, int[] sampleShape, long[] labels, int sampleSize) {
        this.data = data;
        this.sampleShape = sampleShape;
        this.labels = labels;
        this.sampleSize = sampleSize;
    }

    /** Takes ownership of the arrays (no copy); for readers in this package that just made them. */
    static InMemoryDataset adopt(float[] data, int[] sampleShape, long[] labels) {
        return new InMemoryDataset(data, sampleShape, labels, checkedSampleSize(data, sampleShape, labels));
    }

    private static int checkedSampleSize(float[] data, int[] sampleShape, long[] labels) {
        if (sampleShape.length == 0) {
            throw new IllegalArgumentException("InMemoryDataset: expected a sample shape with at least one dimension, got []");
        }
        long numel = 1;
        for (int d : sampleShape) {
            if (d < 1) {
                throw new IllegalArgumentException("InMemoryDataset: expected sample dimensions >= 1, got "
                        + Arrays.toString(sampleShape));
            }
            numel *= d;
            if (numel > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("InMemoryDataset: sample shape " + Arrays.toString(sampleShape)
                        + " has more than " + Integer.MAX_VALUE + " elements");
            }
        }
        long expected = numel * labels.length;
        if (expected != data.length) {
            throw new IllegalArgumentException("InMemoryDataset: " + labels.length + " labels of sample shape "
                    + Arrays.toString(sampleShape) + " need " + expected + " floats, got " + data.length);
        }
        return (int) numel;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public int sampleSize() {
        return sampleSize;
    }

    @Override
    public void copySample(int i, float[] dst, int off) {
        System.arraycopy(data, checkIndex(i) * sampleSize, dst, off, sampleSize);
    }

    @Override
    public long label(int i) {
        return labels[checkIndex(i)];
    }

    /** All labels (a copy). */
    public long[] labels() {
        return labels.clone();
    }

    /** All samples, row-major (a copy). */
    public float[] data() {
        return data.clone();
    }

    /** A new dataset of the samples at {@code indices}, in that order (repeats allowed). */
    public InMemoryDataset subset(int[] indices) {
        float[] d = new float[Math.multiplyExact(indices.length, sampleSize)];
        long[] l = new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= labels.length) {
                throw new IndexOutOfBoundsException("subset: index " + i + " at position " + k
                        + " is outside the dataset of " + labels.length + " samples");
            }
            System.arraycopy(data, i * sampleSize, d, k * sampleSize, sampleSize);
            l[k] = labels[i];
        }
        return new InMemoryDataset(d, sampleShape, l, sampleSize);
    }

    /**
     * Splits the samples at random into two disjoint datasets holding {@code fraction} and
     * {@code 1 - fraction} of them (as PyTorch's {@code random_split} with fractions: each part
     * gets the floor of its share, and the samples left over go one each to the first part, then
     * the second). The same seed gives the same split.
     */
    public Split split(double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("split: expected a fraction in [0, 1], got " + fraction);
        }
        int n = labels.length;
        int first = (int) Math.floor(n * fraction);
        int second = (int) Math.floor(n * (1 - fraction));
        first += (n - first - second + 1) / 2;
        int[] perm = new int[n];
        Arrays.setAll(perm, i -> i);
        new Generator(seed).shuffle(perm);
        return new Split(subset(Arrays.copyOfRange(perm, 0, first)), subset(Arrays.copyOfRange(perm, first, n)));
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= labels.length) {
            throw new IndexOutOfBoundsException("sample " + i + " is outside the dataset of " + labels.length + " samples");
        }
        return i;
    }

    @Override
    public String toString() {
        return "InMemoryDataset[" + labels.length + " samples of shape " + Arrays.toString(sampleShape) + "]";
    }
}
