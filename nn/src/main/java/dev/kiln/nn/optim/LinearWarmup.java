package dev.kiln.nn.optim;

/**
 * A linear warm-up over the first {@code warmupSteps} steps, then another schedule or the base
 * learning rate: {@code lr(t) = base * (startFactor + (1 - startFactor) * t / warmupSteps)} for
 * {@code t < warmupSteps}, then {@code after} at step {@code t - warmupSteps} (its own step 0 is
 * reached right after the warm-up), or {@code base} without one. This is PyTorch's
 * {@code SequentialLR([LinearLR(opt, startFactor, 1.0, warmupSteps), after], milestones=[warmupSteps])},
 * or {@code LinearLR} alone. The base learning rates are those of {@code after}; this schedule
 * drives {@code after}, which must not be stepped by itself.
 *
 * <pre>{@code
 * var cosine = new CosineAnnealingLR(opt, totalSteps - 500, 0.0);
 * LrScheduler sched = new LinearWarmup(500, 0.01, cosine);
 * }</pre>
 */
public final class LinearWarmup extends ClosedFormScheduler {
    private final int warmupSteps;
    private final double startFactor;
    private final ClosedFormScheduler after;

    /** Warms up to the groups' current learning rates, then holds them. */
    public LinearWarmup(Optimizer optimizer, int warmupSteps, double startFactor) {
        this(optimizer, warmupSteps, startFactor, null);
    }

    /** Warms up to the base learning rates of {@code after}, then hands over to it. */
    public LinearWarmup(int warmupSteps, double startFactor, ClosedFormScheduler after) {
        this(after.optimizer(), warmupSteps, startFactor, after);
    }

    private LinearWarmup(Optimizer optimizer, int warmupSteps, double startFactor, ClosedFormScheduler after) {
        super(optimizer, after == null ? currentLrs(optimizer) : baseLrs(after));
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("LinearWarmup: expected warmupSteps >= 0, got " + warmupSteps);
        }
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("LinearWarmup: expected startFactor in (0, 1], got " + startFactor);
        }
        this.warmupSteps = warmupSteps;
        this.startFactor = startFactor;
        this.after = after;
        applyAt(0);
    }

    private static double[] baseLrs(ClosedFormScheduler s) {
        double[] out = new double[s.groupCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.baseLr(i);
        }
        return out;
    }

    @Override
    double lrAt(int group, int step) {
        if (step < warmupSteps) {
            return baseLr(group) * (startFactor + (1 - startFactor) * step / warmupSteps);
        }
        return after == null ? baseLr(group) : after.lrAt(group, step - warmupSteps);
    }

    @Override
    void applyAt(int step) {
        if (step < warmupSteps || after == null) {
            super.applyAt(step);
        } else {
            after.applyAt(step - warmupSteps);
        }
    }

    @Override
    void checkStep(int step) {
        if (after != null && step >= warmupSteps) {
            after.checkStep(step - warmupSteps);
        }
    }
}
