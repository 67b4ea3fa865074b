package dev.kiln.nn.layers;

import dev.kiln.engine.Device;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/** What {@link BatchNorm1d} and {@link BatchNorm2d} share: argument checks, the forward pass and the description. */
final class BatchNorms {
    static final double EPS = 1e-5;
    static final double MOMENTUM = 0.1;

    private BatchNorms() {
    }

    static void checkArguments(String layer, int c, double eps, double momentum) {
        if (c < 1 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(layer + ": expected channels >= 1, eps > 0 and momentum in [0, 1], got channels=" + c
                    + " eps=" + eps + " momentum=" + momentum);
        }
    }

    /**
     * Normalizes x over every dim but 1. In training the batch statistics are used, the running
     * ones are updated by {@link Functional#batchNorm} and {@code numBatchesTracked} goes up by one;
     * in eval the running statistics are used.
     */
    static Tensor forward(String description, boolean training, Tensor x, Parameter weight, Parameter bias, Tensor runningMean,
                          Tensor runningVar, Tensor numBatchesTracked, double momentum, double eps) {
        int c = runningMean.size(0);
        if (training && x.numel() / c < 2) {
            throw new IllegalArgumentException(description + ": expected more than one value per channel in training, got input "
                    + Arrays.toString(x.shape()));
        }
        Tensor y = Functional.batchNorm(x, runningMean, runningVar, weight.get(), bias.get(), training, momentum, eps);
        if (training) {
            try (var ng = Grad.disabled()) {
                numBatchesTracked.fill(numBatchesTracked.to(Device.CPU).item() + 1);
            }
        }
        return y;
    }

    static String describe(String name, int c, double eps, double momentum) {
        StringBuilder sb = new StringBuilder(name).append('(').append(c);
        if (eps != EPS) {
            sb.append(", eps=").append(eps);
        }
        if (momentum != MOMENTUM) {
            sb.append(", momentum=").append(momentum);
        }
        return sb.append(')').toString();
    }
}
