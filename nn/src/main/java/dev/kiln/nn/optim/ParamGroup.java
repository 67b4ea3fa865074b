package dev.kiln.nn.optim;

import dev.kiln.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of parameters that share hyper-parameters, as a {@code param_group} of a PyTorch
 * optimizer. The learning rate and weight decay exist for every optimizer; the other options
 * belong to one family: {@code momentum}, {@code dampening} and {@code nesterov} to {@link SGD},
 * {@code betas}, {@code eps} and {@code amsgrad} to {@link Adam} and {@link AdamW}. An option left
 * unset takes the optimizer's default when the group is added to it; every option stays mutable
 * afterwards (schedulers change {@code lr}, and {@link OneCycleLR} the momentum or beta1).
 *
 * <pre>{@code
 * Optimizer opt = SGD.withGroups(List.of(
 *         ParamGroup.of(backbone.parameters()).lr(1e-3),   // fine-tuned slowly
 *         ParamGroup.of(head.parameters())),               // lr 0.1 and the rest from the defaults
 *     0.1, 0.9, 5e-4, true);
 * }</pre>
 */
public final class ParamGroup {
    /** The options, in state-dict order; the names are PyTorch's keys. */
    enum Option {
        LR("lr"), WEIGHT_DECAY("weight_decay"), MOMENTUM("momentum"), DAMPENING("dampening"), NESTEROV("nesterov"),
        BETA1("beta1"), BETA2("beta2"), EPS("eps"), AMSGRAD("amsgrad");

        final String key;

        Option(String key) {
            this.key = key;
        }
    }

    private final String owner;
    private final List<Parameter> params;
    private final double[] values = new double[Option.values().length];

    private ParamGroup(String owner, List<Parameter> params) {
        this.owner = owner;
        this.params = params;
        Arrays.fill(values, Double.NaN);
    }

    /** An empty group holding an optimizer's defaults; its errors are prefixed with {@code owner}. */
    static ParamGroup defaults(String owner) {
        return new ParamGroup(owner, List.of());
    }

    /** A group over {@code params} (copied) with every option unset; duplicates are rejected. */
    public static ParamGroup of(List<Parameter> params) {
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        List<Parameter> copy = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            if (p == null) {
                throw new IllegalArgumentException("ParamGroup: parameter " + i + " is null");
            }
            if (seen.put(p, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("ParamGroup: parameter " + i + " (" + p + ") appears twice in the list");
            }
            copy.add(p);
        }
        return new ParamGroup("ParamGroup", Collections.unmodifiableList(copy));
    }

    /** The parameters, in the order they were given. */
    public List<Parameter> params() {
        return params;
    }

    public double lr() {
        return get(Option.LR);
    }

    /** Sets the learning rate (>= 0). */
    public ParamGroup lr(double lr) {
        return set(Option.LR, nonNegative("lr", lr));
    }

    public double weightDecay() {
        return get(Option.WEIGHT_DECAY);
    }

    /** Sets the weight decay (>= 0): L2 added to the gradient for SGD and Adam, decoupled for AdamW. */
    public ParamGroup weightDecay(double weightDecay) {
        return set(Option.WEIGHT_DECAY, nonNegative("weightDecay", weightDecay));
    }

    public double momentum() {
        return get(Option.MOMENTUM);
    }

    /** Sets the SGD momentum factor (>= 0). */
    public ParamGroup momentum(double momentum) {
        return set(Option.MOMENTUM, nonNegative("momentum", momentum));
    }

    public double dampening() {
        return get(Option.DAMPENING);
    }

    /** Sets the SGD dampening of the momentum (PyTorch default 0). */
    public ParamGroup dampening(double dampening) {
        return set(Option.DAMPENING, finite("dampening", dampening));
    }

    public boolean nesterov() {
        return get(Option.NESTEROV) != 0;
    }

    /** Turns Nesterov momentum on or off (needs momentum > 0 and dampening 0). */
    public ParamGroup nesterov(boolean on) {
        return set(Option.NESTEROV, on ? 1 : 0);
    }

    public double beta1() {
        return get(Option.BETA1);
    }

    public double beta2() {
        return get(Option.BETA2);
    }

    /** Sets Adam's coefficients of the running averages of the gradient and its square, each in [0, 1). */
    public ParamGroup betas(double beta1, double beta2) {
        set(Option.BETA1, beta("beta1", beta1));
        return set(Option.BETA2, beta("beta2", beta2));
    }

    /** Sets beta1 alone (in [0, 1)); {@link OneCycleLR} cycles it as Adam's momentum. */
    public ParamGroup beta1(double beta1) {
        return set(Option.BETA1, beta("beta1", beta1));
    }

    public double eps() {
        return get(Option.EPS);
    }

    /** Sets Adam's denominator term (>= 0). */
    public ParamGroup eps(double eps) {
        return set(Option.EPS, nonNegative("eps", eps));
    }

    public boolean amsgrad() {
        return get(Option.AMSGRAD) != 0;
    }

    /** Turns on AMSGrad: the maximum of the squared-gradient averages so far is used. */
    public ParamGroup amsgrad(boolean on) {
        return set(Option.AMSGRAD, on ? 1 : 0);
    }

    /** Whether {@code o} has a value. */
    boolean has(Option o) {
        return !Double.isNaN(values[o.ordinal()]);
    }

    /** The raw value of {@code o} (booleans as 0 or 1). */
    double raw(Option o) {
        return get(o);
    }

    /** Sets {@code o} from a raw value, checked as the typed setter checks it. */
    void setRaw(Option o, double v) {
        switch (o) {
            case LR -> lr(v);
            case WEIGHT_DECAY -> weightDecay(v);
            case MOMENTUM -> momentum(v);
            case DAMPENING -> dampening(v);
            case NESTEROV -> nesterov(flag("nesterov", v));
            case BETA1 -> beta1(v);
            case BETA2 -> set(Option.BETA2, beta("beta2", v));
            case EPS -> eps(v);
            case AMSGRAD -> amsgrad(flag("amsgrad", v));
        }
    }

    /** Copies every option set in {@code defaults} that this group leaves unset. */
    void fillFrom(ParamGroup defaults) {
        for (Option o : Option.values()) {
            if (!has(o) && defaults.has(o)) {
                values[o.ordinal()] = defaults.values[o.ordinal()];
            }
        }
    }

    private double get(Option o) {
        double v = values[o.ordinal()];
        if (Double.isNaN(v)) {
            throw new IllegalStateException(owner + ": option '" + o.key + "' is not set (it is set when the group is added to "
                    + "an optimizer that has it: momentum/dampening/nesterov for SGD, betas/eps/amsgrad for Adam and AdamW)");
        }
        return v;
    }

    private ParamGroup set(Option o, double v) {
        values[o.ordinal()] = v;
        return this;
    }

    private double finite(String name, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(owner + ": expected a finite " + name + ", got " + v);
        }
        return v;
    }

    private double nonNegative(String name, double v) {
        if (!(v >= 0) || v == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(owner + ": expected " + name + " >= 0 (finite), got " + v);
        }
        return v;
    }

    private double beta(String name, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(owner + ": expected " + name + " in [0, 1), got " + v);
        }
        return v;
    }

    private boolean flag(String name, double v) {
        if (v != 0 && v != 1) {
            throw new IllegalArgumentException(owner + ": expected " + name + " to be 0 or 1, got " + v);
        }
        return v == 1;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ParamGroup(").append(params.size()).append(" params");
        for (Option o : Option.values()) {
            if (has(o)) {
                double v = values[o.ordinal()];
                sb.append(", ").append(o.key).append('=');
                if (o == Option.NESTEROV || o == Option.AMSGRAD) {
                    sb.append(v != 0);
                } else {
                    sb.append(v);
                }
            }
        }
        return sb.append(')').toString();
    }
}
