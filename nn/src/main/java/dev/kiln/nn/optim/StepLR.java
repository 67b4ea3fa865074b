package dev.kiln.nn.optim;

/**
 * Decays the learning rate by {@code gamma} every {@code stepSize} steps, as
 * {@code torch.optim.lr_scheduler.StepLR}: {@code lr(t) = base * gamma^floor(t / stepSize)}.
 *
 * <pre>{@code
 * LrScheduler sched = new StepLR(opt, 30, 0.1);   // lr / 10 every 30 epochs
 * }</pre>
 */
public final class StepLR extends ClosedFormScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer, currentLrs(optimizer));
        if (stepSize <= 0) {
            throw new IllegalArgumentException("StepLR: expected stepSize > 0, got " + stepSize);
        }
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("StepLR: expected a finite gamma >= 0, got " + gamma);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
        applyAt(0);
    }

    @Override
    double lrAt(int group, int step) {
        return baseLr(group) * Math.pow(gamma, step / stepSize);
    }
}
