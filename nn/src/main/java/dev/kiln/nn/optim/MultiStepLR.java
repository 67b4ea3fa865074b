package dev.kiln.nn.optim;

import java.util.Arrays;

/**
 * Decays the learning rate by {@code gamma} at each milestone, as
 * {@code torch.optim.lr_scheduler.MultiStepLR}: {@code lr(t) = base * gamma^k} where {@code k}
 * counts the milestones {@code <= t} (a milestone given twice counts twice).
 *
 * <pre>{@code
 * LrScheduler sched = new MultiStepLR(opt, new int[] {30, 80}, 0.1);
 * }</pre>
 */
public final class MultiStepLR extends ClosedFormScheduler {
    private final int[] milestones;
    private final double gamma;

    public MultiStepLR(Optimizer optimizer, int[] milestones, double gamma) {
        super(optimizer, currentLrs(optimizer));
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("MultiStepLR: expected a finite gamma >= 0, got " + gamma);
        }
        this.milestones = milestones.clone();
        Arrays.sort(this.milestones);
        this.gamma = gamma;
        applyAt(0);
    }

    @Override
    double lrAt(int group, int step) {
        int passed = 0;
        while (passed < milestones.length && milestones[passed] <= step) {
            passed++;
        }
        return baseLr(group) * Math.pow(gamma, passed);
    }
}
