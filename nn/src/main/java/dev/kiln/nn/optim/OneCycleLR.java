package dev.kiln.nn.optim;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The one-cycle policy, as {@code torch.optim.lr_scheduler.OneCycleLR}, stepped once per batch:
 * the learning rate rises from {@code maxLr / divFactor} to {@code maxLr} over the first
 * {@code pctStart} of {@code totalSteps}, then anneals to {@code maxLr / divFactor / finalDivFactor}
 * (with {@code threePhase}: back down to the initial rate, then to the minimum). With
 * {@code cycleMomentum} (the default) the momentum moves the opposite way between
 * {@code maxMomentum} and {@code baseMomentum}: SGD's momentum, or beta1 of Adam and AdamW. As in
 * PyTorch this turns momentum on for an SGD created without it. Steps 0 to {@code totalSteps} are
 * defined; stepping past them throws. Step {@code totalSteps} (after the last batch) extends the
 * last phase, as in PyTorch, except that a learning rate below 0 (linear annealing) is set to 0.
 *
 * <pre>{@code
 * LrScheduler sched = OneCycleLR.builder(opt, 0.1, epochs * loader.batchesPerEpoch()).pctStart(0.25).build();
 * }</pre>
 */
public final class OneCycleLR extends ClosedFormScheduler {
    /** How a phase moves between its two values. */
    public enum Anneal { COS, LINEAR }

    private enum Level { INITIAL_LR, MAX_LR, MIN_LR, MAX_MOMENTUM, BASE_MOMENTUM }

    private record Phase(double endStep, Level lrFrom, Level lrTo, Level momentumFrom, Level momentumTo) {
    }

    private final int totalSteps;
    private final List<Phase> phases;
    private final Anneal anneal;
    private final double[] maxLrs;
    private final double finalDivFactor;
    private final boolean cycleMomentum;
    private final boolean useBeta1;
    private final double baseMomentum;
    private final double maxMomentum;

    /** One cycle with PyTorch's defaults: pctStart 0.3, cosine, momentum 0.85-0.95, divFactor 25, finalDivFactor 1e4. */
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps) {
        this(builder(optimizer, maxLr, totalSteps));
    }

    /** Options beyond the defaults; {@code maxLr} applies to every group unless {@link Builder#maxLrs} sets one each. */
    public static Builder builder(Optimizer optimizer, double maxLr, int totalSteps) {
        return new Builder(optimizer, maxLr, totalSteps);
    }

    private OneCycleLR(Builder b) {
        super(b.optimizer, initialLrs(b));
        this.totalSteps = b.totalSteps;
        this.anneal = b.anneal;
        this.maxLrs = b.maxLrs.clone();
        this.finalDivFactor = b.finalDivFactor;
        this.cycleMomentum = b.cycleMomentum;
        this.baseMomentum = b.baseMomentum;
        this.maxMomentum = b.maxMomentum;
        double warm = b.pctStart * totalSteps;
        this.phases = b.threePhase
                ? List.of(new Phase(warm - 1, Level.INITIAL_LR, Level.MAX_LR, Level.MAX_MOMENTUM, Level.BASE_MOMENTUM),
                        new Phase(2 * warm - 2, Level.MAX_LR, Level.INITIAL_LR, Level.BASE_MOMENTUM, Level.MAX_MOMENTUM),
                        new Phase(totalSteps - 1, Level.INITIAL_LR, Level.MIN_LR, Level.MAX_MOMENTUM, Level.MAX_MOMENTUM))
                : List.of(new Phase(warm - 1, Level.INITIAL_LR, Level.MAX_LR, Level.MAX_MOMENTUM, Level.BASE_MOMENTUM),
                        new Phase(totalSteps - 1, Level.MAX_LR, Level.MIN_LR, Level.BASE_MOMENTUM, Level.MAX_MOMENTUM));
        ParamGroup first = b.optimizer.groups().get(0);
        this.useBeta1 = first.has(ParamGroup.Option.BETA1);
        if (cycleMomentum && !useBeta1 && !first.has(ParamGroup.Option.MOMENTUM)) {
            throw new IllegalArgumentException("OneCycleLR: cycleMomentum needs an optimizer with momentum (SGD) or betas "
                    + "(Adam, AdamW), got " + b.optimizer.name() + "; turn it off with cycleMomentum(false)");
        }
        applyAt(0);
    }

    private static double[] initialLrs(Builder b) {
        int groups = b.optimizer.groups().size();
        if (b.maxLrs.length != groups) {
            throw new IllegalArgumentException("OneCycleLR: expected " + groups + " maxLrs (one per group), got "
                    + b.maxLrs.length);
        }
        double[] out = new double[groups];
        for (int i = 0; i < groups; i++) {
            out[i] = b.maxLrs[i] / b.divFactor;
        }
        return out;
    }

    @Override
    void checkStep(int step) {
        if (step > totalSteps) {
            throw new IllegalStateException("OneCycleLR: step " + step + " is past the end of the schedule (totalSteps "
                    + totalSteps + " defines steps 0 to " + totalSteps + ")");
        }
    }

    @Override
    double lrAt(int group, int step) {
        return Math.max(0, value(group, step, true));
    }

    @Override
    void applyAt(int step) {
        super.applyAt(step);
        if (cycleMomentum) {
            List<ParamGroup> groups = optimizer().groups();
            for (int i = 0; i < groupCount(); i++) {
                double m = value(i, step, false);
                if (useBeta1) {
                    groups.get(i).beta1(m);
                } else {
                    groups.get(i).momentum(m);
                }
            }
        }
    }

    /** The learning rate ({@code lr}) or momentum of {@code group} at {@code step}. */
    private double value(int group, int step, boolean lr) {
        double start = 0;
        for (int i = 0; i < phases.size(); i++) {
            Phase ph = phases.get(i);
            if (step <= ph.endStep() || i == phases.size() - 1) {
                double span = ph.endStep() - start;
                double pct = span == 0 ? 1 : (step - start) / span;
                return lr ? anneal(level(ph.lrFrom(), group), level(ph.lrTo(), group), pct)
                        : anneal(level(ph.momentumFrom(), group), level(ph.momentumTo(), group), pct);
            }
            start = ph.endStep();
        }
        throw new AssertionError("the last phase always matches");
    }

    private double level(Level l, int group) {
        return switch (l) {
            case INITIAL_LR -> baseLr(group);
            case MAX_LR -> maxLrs[group];
            case MIN_LR -> baseLr(group) / finalDivFactor;
            case MAX_MOMENTUM -> maxMomentum;
            case BASE_MOMENTUM -> baseMomentum;
        };
    }

    private double anneal(double from, double to, double pct) {
        return switch (anneal) {
            case COS -> to + (from - to) / 2.0 * (Math.cos(Math.PI * pct) + 1);
            case LINEAR -> (to - from) * pct + from;
        };
    }

    /** The options of a {@link OneCycleLR}, PyTorch's defaults unless set. */
    public static final class Builder {
        private final Optimizer optimizer;
        private final int totalSteps;
        private double[] maxLrs;
        private double pctStart = 0.3;
        private Anneal anneal = Anneal.COS;
        private boolean cycleMomentum = true;
        private double baseMomentum = 0.85;
        private double maxMomentum = 0.95;
        private double divFactor = 25;
        private double finalDivFactor = 1e4;
        private boolean threePhase;

        private Builder(Optimizer optimizer, double maxLr, int totalSteps) {
            if (totalSteps <= 0) {
                throw new IllegalArgumentException("OneCycleLR: expected totalSteps > 0, got " + totalSteps);
            }
            this.optimizer = optimizer;
            this.totalSteps = totalSteps;
            double[] all = new double[optimizer.groups().size()];
            Arrays.fill(all, positive("maxLr", maxLr, true));
            this.maxLrs = all;
        }

        /** One peak learning rate per group. */
        public Builder maxLrs(double... maxLrs) {
            for (double m : maxLrs) {
                positive("maxLr", m, true);
            }
            this.maxLrs = maxLrs.clone();
            return this;
        }

        /** The share of the steps spent rising, in [0, 1] (default 0.3). */
        public Builder pctStart(double pctStart) {
            if (!(pctStart >= 0 && pctStart <= 1)) {
                throw new IllegalArgumentException("OneCycleLR: expected pctStart in [0, 1], got " + pctStart);
            }
            this.pctStart = pctStart;
            return this;
        }

        public Builder anneal(Anneal anneal) {
            this.anneal = Objects.requireNonNull(anneal, "anneal");
            return this;
        }

        /** Whether to cycle SGD's momentum or Adam's beta1 (default true). */
        public Builder cycleMomentum(boolean on) {
            this.cycleMomentum = on;
            return this;
        }

        /** The momentum range, each in [0, 1) (default 0.85 to 0.95). */
        public Builder momentum(double baseMomentum, double maxMomentum) {
            for (double m : new double[] {baseMomentum, maxMomentum}) {
                if (!(m >= 0 && m < 1)) {
                    throw new IllegalArgumentException("OneCycleLR: expected momentum values in [0, 1), got " + m);
                }
            }
            this.baseMomentum = baseMomentum;
            this.maxMomentum = maxMomentum;
            return this;
        }

        /** The initial learning rate is {@code maxLr / divFactor} (default 25). */
        public Builder divFactor(double divFactor) {
            this.divFactor = positive("divFactor", divFactor, false);
            return this;
        }

        /** The final learning rate is the initial one divided by {@code finalDivFactor} (default 1e4). */
        public Builder finalDivFactor(double finalDivFactor) {
            this.finalDivFactor = positive("finalDivFactor", finalDivFactor, false);
            return this;
        }

        /** Three phases: up, back down to the initial rate, then down to the minimum (default false). */
        public Builder threePhase(boolean on) {
            this.threePhase = on;
            return this;
        }

        public OneCycleLR build() {
            return new OneCycleLR(this);
        }

        private static double positive(String name, double v, boolean zeroAllowed) {
            if (!(zeroAllowed ? v >= 0 : v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("OneCycleLR: expected a finite " + name + (zeroAllowed ? " >= 0" : " > 0")
                        + ", got " + v);
            }
            return v;
        }
    }
}
