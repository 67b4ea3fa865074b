package dev.kiln.nn.optim;

import dev.kiln.nn.Parameter;
import java.util.List;

/**
 * AdamW, as {@code torch.optim.AdamW}: {@link Adam}'s update with the weight decay decoupled from
 * the gradient, applied to the weight first as {@code w *= 1 - lr*wd}. Defaults: lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8, weight decay 1e-2, no AMSGrad.
 *
 * <pre>{@code
 * Optimizer opt = new AdamW(model.parameters(), 1e-3, 0.9, 0.999, 1e-8, 0.05);
 * }</pre>
 */
public final class AdamW extends AdamFamily {
    private static final String NAME = "AdamW";

    /** AdamW with PyTorch's defaults. */
    public AdamW(List<Parameter> params) {
        this(params, 1e-3, 0.9, 0.999, 1e-8, 1e-2);
    }

    /** AdamW without AMSGrad. */
    public AdamW(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    public AdamW(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        this(defaults(NAME, lr, beta1, beta2, eps, weightDecay, amsgrad), List.of(ParamGroup.of(params)));
    }

    private AdamW(ParamGroup defaults, List<ParamGroup> groups) {
        super(NAME, true, groups, defaults);
    }

    /** AdamW over several groups; each option a group leaves unset takes the value given here. */
    public static AdamW withGroups(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps,
                                   double weightDecay, boolean amsgrad) {
        return new AdamW(defaults(NAME, lr, beta1, beta2, eps, weightDecay, amsgrad), groups);
    }
}
