package dev.kiln.nn.train;

/**
 * The test metric that decides which epoch is best, for early stopping and best-checkpoint
 * saving: accuracy (higher is better) or loss (lower is better).
 */
public enum Monitor {
    TEST_ACCURACY,
    TEST_LOSS;

    /** The monitored value of {@code r}. */
    public double value(EpochRecord r) {
        return this == TEST_ACCURACY ? r.testAccuracy() : r.testLoss();
    }

    /** Whether {@code candidate} improves on {@code best} ({@code NaN} best: anything finite improves). */
    public boolean improves(double candidate, double best) {
        if (Double.isNaN(candidate)) {
            return false;
        }
        if (Double.isNaN(best)) {
            return true;
        }
        return this == TEST_ACCURACY ? candidate > best : candidate < best;
    }
}
