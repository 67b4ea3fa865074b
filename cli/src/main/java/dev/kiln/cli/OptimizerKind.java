package dev.kiln.cli;

import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.Adam;
import dev.kiln.nn.optim.AdamW;
import dev.kiln.nn.optim.Optimizer;
import dev.kiln.nn.optim.SGD;
import java.util.List;
import java.util.Locale;

/** The optimizers of {@code kiln train}, with their default learning rate and weight decay. */
enum OptimizerKind {
    SGD(0.05, 0.0), ADAM(1e-3, 0.0), ADAMW(1e-3, 0.01);

    private final double defaultLr;
    private final double defaultWeightDecay;

    OptimizerKind(double defaultLr, double defaultWeightDecay) {
        this.defaultLr = defaultLr;
        this.defaultWeightDecay = defaultWeightDecay;
    }

    double defaultLr() {
        return defaultLr;
    }

    double defaultWeightDecay() {
        return defaultWeightDecay;
    }

    /** The optimizer over {@code params}; {@code momentum} is SGD's (Adam and AdamW use betas 0.9, 0.999). */
    Optimizer create(List<Parameter> params, double lr, double momentum, double weightDecay) {
        return switch (this) {
            case SGD -> new SGD(params, lr, momentum, weightDecay, false);
            case ADAM -> new Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay);
            case ADAMW -> new AdamW(params, lr, 0.9, 0.999, 1e-8, weightDecay);
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
