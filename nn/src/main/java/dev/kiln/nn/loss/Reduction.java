package dev.kiln.nn.loss;

/** How a loss reduces its per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** No reduction: one value per element (per sample for the classification losses). */
    NONE,
    /** The mean (the weighted mean for cross-entropy and NLL with class weights). */
    MEAN,
    /** The sum. */
    SUM,
    /** The sum divided by the batch size (dim 0); only {@link Losses#klDiv} accepts it, as in PyTorch. */
    BATCHMEAN
}
