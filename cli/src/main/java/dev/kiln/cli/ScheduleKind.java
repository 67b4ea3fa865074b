package dev.kiln.cli;

import dev.kiln.nn.optim.CosineAnnealingLR;
import dev.kiln.nn.optim.OneCycleLR;
import dev.kiln.nn.optim.StepLR;
import dev.kiln.nn.train.Trainer;
import java.util.Locale;

/**
 * The learning-rate schedules of {@code kiln train}: none; cosine annealing to 0 over the run and
 * one-cycle peaking at the given rate (both stepped every iteration); step decay by 10x after a
 * third and two thirds of the epochs (stepped every epoch).
 */
enum ScheduleKind {
    NONE, COSINE, ONECYCLE, STEP;

    /** Adds this schedule to {@code b}; {@code lr} is the optimizer's (peak) learning rate. */
    void configure(Trainer.Builder b, double lr) {
        switch (this) {
            case NONE -> { }
            case COSINE -> b.schedulerPerIteration((opt, steps) -> new CosineAnnealingLR(opt, steps, 0.0));
            case ONECYCLE -> b.schedulerPerIteration((opt, steps) -> new OneCycleLR(opt, lr, steps));
            case STEP -> b.schedulerPerEpoch((opt, epochs) -> new StepLR(opt, Math.max(1, epochs / 3), 0.1));
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
