package dev.kiln.nn.layers;

/**
 * Batch normalization over the channels of {@code [N, C, H, W]}, as {@code torch.nn.BatchNorm2d}
 * (see {@link BatchNorm} for the parameters, buffers and training behaviour).
 */
public final class BatchNorm2d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, as PyTorch. */
    public BatchNorm2d(int c) {
        this(c, EPS, MOMENTUM);
    }

    public BatchNorm2d(int c, double eps, double momentum) {
        super("BatchNorm2d", c, eps, momentum);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 4;
    }

    @Override
    String expectedShapes(int channels) {
        return "[N, " + channels + ", H, W]";
    }
}
