package dev.kiln.nn.train;

import java.util.List;

/**
 * Everything {@link Trainer#fit} recorded: one {@link EpochRecord} per epoch run, the epoch whose
 * monitored metric was best (0 when nothing was monitored), and whether early stopping ended the
 * run before the configured number of epochs.
 */
public record History(List<EpochRecord> epochs, int bestEpoch, boolean stoppedEarly) {
    public History {
        epochs = List.copyOf(epochs);
    }

    /** The last epoch's record. */
    public EpochRecord last() {
        if (epochs.isEmpty()) {
            throw new IllegalStateException("History.last: no epoch was run");
        }
        return epochs.getLast();
    }

    /** The training loss of every epoch, in order. */
    public double[] trainLosses() {
        return epochs.stream().mapToDouble(EpochRecord::trainLoss).toArray();
    }
}
