package dev.kiln.nn.optim;

import java.util.List;

/**
 * A schedule whose learning rate is a closed form of the step count and of each group's base
 * learning rate (the group's lr when the schedule was created). The values equal those of
 * PyTorch's recursive updates up to rounding. {@link #resume(int)} jumps to a step, for
 * continuing from a checkpoint. Groups added to the optimizer after the schedule was created are
 * left alone, as in PyTorch.
 */
public abstract sealed class ClosedFormScheduler implements LrScheduler
        permits StepLR, MultiStepLR, CosineAnnealingLR, LinearWarmup, OneCycleLR {
    private final Optimizer optimizer;
    private final double[] baseLrs;
    private int step;

    ClosedFormScheduler(Optimizer optimizer, double[] baseLrs) {
        this.optimizer = optimizer;
        this.baseLrs = baseLrs.clone();
    }

    /** The current learning rates of the optimizer's groups. */
    static double[] currentLrs(Optimizer optimizer) {
        List<ParamGroup> groups = optimizer.groups();
        double[] out = new double[groups.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = groups.get(i).lr();
        }
        return out;
    }

    /** The learning rate of group {@code group} at step {@code step}. */
    abstract double lrAt(int group, int step);

    /** Sets what the schedule drives (the learning rates, and for some the momentum) to its values at {@code step}. */
    void applyAt(int step) {
        List<ParamGroup> groups = optimizer.groups();
        for (int i = 0; i < baseLrs.length; i++) {
            groups.get(i).lr(lrAt(i, step));
        }
    }

    /** Throws when {@code step} lies past the end of the schedule. */
    void checkStep(int step) {
    }

    @Override
    public final void step() {
        checkStep(step + 1);
        step++;
        applyAt(step);
    }

    @Override
    public final double lr() {
        return optimizer.groups().get(0).lr();
    }

    /** The number of steps taken (PyTorch's {@code last_epoch}). */
    public final int stepCount() {
        return step;
    }

    /** Jumps to {@code step} (>= 0) and sets the values of that step, e.g. when resuming training. */
    public final void resume(int step) {
        if (step < 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".resume: expected a step >= 0, got " + step);
        }
        checkStep(step);
        this.step = step;
        applyAt(step);
    }

    /** The optimizer this schedule drives. */
    public final Optimizer optimizer() {
        return optimizer;
    }

    /** The base learning rate of group {@code group}. */
    public final double baseLr(int group) {
        return baseLrs[group];
    }

    /** The number of groups the schedule drives. */
    final int groupCount() {
        return baseLrs.length;
    }
}
