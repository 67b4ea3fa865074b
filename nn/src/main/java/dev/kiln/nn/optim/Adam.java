package dev.kiln.nn.optim;

import dev.kiln.nn.Parameter;
import java.util.List;

/**
 * Adam, as {@code torch.optim.Adam}: with {@code g = grad + wd*w} (L2 weight decay added to the
 * gradient) and the parameter's step count {@code t},
 * {@code m = beta1*m + (1-beta1)*g}, {@code v = beta2*v + (1-beta2)*g^2} and
 * {@code w -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)}; with AMSGrad the running
 * maximum of {@code v} replaces it in the denominator. Defaults: lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0, no AMSGrad. Options per group: lr, weight_decay, betas, eps, amsgrad.
 *
 * <pre>{@code
 * Optimizer opt = new Adam(model.parameters(), 3e-4, 0.9, 0.999, 1e-8, 0);
 * }</pre>
 */
public final class Adam extends AdamFamily {
    private static final String NAME = "Adam";

    /** Adam with PyTorch's defaults. */
    public Adam(List<Parameter> params) {
        this(params, 1e-3, 0.9, 0.999, 1e-8, 0);
    }

    /** Adam without AMSGrad. */
    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        this(defaults(NAME, lr, beta1, beta2, eps, weightDecay, amsgrad), List.of(ParamGroup.of(params)));
    }

    private Adam(ParamGroup defaults, List<ParamGroup> groups) {
        super(NAME, false, groups, defaults);
    }

    /** Adam over several groups; each option a group leaves unset takes the value given here. */
    public static Adam withGroups(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps,
                                  double weightDecay, boolean amsgrad) {
        return new Adam(defaults(NAME, lr, beta1, beta2, eps, weightDecay, amsgrad), groups);
    }
}
