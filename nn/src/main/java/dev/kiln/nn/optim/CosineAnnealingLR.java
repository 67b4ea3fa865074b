package dev.kiln.nn.optim;

/**
 * Cosine annealing from the base learning rate down to {@code etaMin} over {@code tMax} steps, as
 * {@code torch.optim.lr_scheduler.CosineAnnealingLR}:
 * {@code lr(t) = etaMin + (base - etaMin) * (1 + cos(pi * t / tMax)) / 2}. Past {@code tMax} the
 * cosine goes on (the rate rises again), as in PyTorch.
 *
 * <pre>{@code
 * LrScheduler sched = new CosineAnnealingLR(opt, totalIterations, 0.0);
 * }</pre>
 */
public final class CosineAnnealingLR extends ClosedFormScheduler {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer, currentLrs(optimizer));
        if (tMax <= 0) {
            throw new IllegalArgumentException("CosineAnnealingLR: expected tMax > 0, got " + tMax);
        }
        if (!(etaMin >= 0) || Double.isInfinite(etaMin)) {
            throw new IllegalArgumentException("CosineAnnealingLR: expected a finite etaMin >= 0, got " + etaMin);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        applyAt(0);
    }

    @Override
    double lrAt(int group, int step) {
        return etaMin + (baseLr(group) - etaMin) * (1 + Math.cos(Math.PI * step / tMax)) / 2;
    }
}
