package dev.kiln.nn.train;

/**
 * What one epoch of {@link Trainer#fit} measured. Test metrics are {@code NaN} when the fit had no
 * test loader; accuracy is {@code NaN} when the outputs are not class scores.
 *
 * @param epoch           1-based epoch number
 * @param trainLoss       mean training loss over the epoch's samples (as the batches were trained)
 * @param trainAccuracy   fraction of training samples classified correctly during the epoch
 * @param testLoss        mean loss on the test loader after the epoch
 * @param testAccuracy    accuracy on the test loader after the epoch
 * @param lr              learning rate of the first parameter group at the start of the epoch
 * @param seconds         wall time of the epoch, training and evaluation
 * @param imagesPerSecond training samples per second (forward, backward and step; evaluation excluded)
 */
public record EpochRecord(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
                          double lr, double seconds, double imagesPerSecond) {
}
