package dev.kiln.nn.data;

/**
 * A fixed-size collection of labelled samples, each a float array of one shape. Implementations
 * must allow {@link #copySample} and {@link #label} to be called from a loader's worker thread
 * while nothing else writes to the dataset.
 */
public interface Dataset {
    /** Number of samples. */
    int size();

    /** Shape of one sample, e.g. {@code [1, 28, 28]} for a grayscale image (a copy). */
    int[] sampleShape();

    /** Writes sample {@code i} (row-major, {@link #sampleSize()} floats) into {@code dst} at {@code off}. */
    void copySample(int i, float[] dst, int off);

    /** The class label of sample {@code i}. */
    long label(int i);

    /** Number of floats in one sample: the product of {@link #sampleShape()}. */
    default int sampleSize() {
        int n = 1;
        for (int d : sampleShape()) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
