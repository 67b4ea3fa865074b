package dev.kiln.nn.data;

/**
 * Two disjoint datasets: a training part and a test (or validation) part.
 *
 * @param train the part to train on
 * @param test the part to evaluate on
 */
public record Split(Dataset train, Dataset test) {
    public Split {
        if (train == null || test == null) {
            throw new IllegalArgumentException("Split: expected two datasets, got train=" + train + ", test=" + test);
        }
    }
}
