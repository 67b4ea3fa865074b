package dev.kiln.nn.layers;

/**
 * Batch normalization over the channels of {@code [N, C]} or {@code [N, C, L]}, as {@code torch.nn.BatchNorm1d}
 * (see {@link BatchNorm} for the parameters, buffers and training behaviour).
 */
public final class BatchNorm1d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, as PyTorch. */
    public BatchNorm1d(int c) {
        this(c, EPS, MOMENTUM);
    }

    public BatchNorm1d(int c, double eps, double momentum) {
        super("BatchNorm1d", c, eps, momentum);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 2 || rank == 3;
    }

    @Override
    String expectedShapes(int channels) {
        return "[N, " + channels + "] or [N, " + channels + ", L]";
    }
}
