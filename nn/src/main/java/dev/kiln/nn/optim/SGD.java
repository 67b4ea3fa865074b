package dev.kiln.nn.optim;

import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, as {@code torch.optim.SGD}: with {@code d = grad + wd*w}
 * (weight decay as L2 added to the gradient), the momentum buffer is {@code buf = d} on a
 * parameter's first step and {@code buf = momentum*buf + (1-dampening)*d} after; the update is
 * {@code w -= lr * (nesterov ? d + momentum*buf : buf)}, or {@code w -= lr*d} without momentum.
 * Options per group: lr, weight_decay, momentum, dampening (default 0), nesterov.
 *
 * <pre>{@code
 * Optimizer opt = new SGD(model.parameters(), 0.05, 0.9, 5e-4, true);
 * }</pre>
 */
public final class SGD extends Optimizer {
    private static final String NAME = "SGD";
    private static final String BUFFER = "momentum_buffer";

    private final Map<Parameter, Tensor> buffers = new IdentityHashMap<>();

    /** Plain SGD: {@code w -= lr * grad}. */
    public SGD(List<Parameter> params, double lr) {
        this(params, lr, 0, 0, false);
    }

    /** SGD over one group of {@code params}; dampening 0. */
    public SGD(List<Parameter> params, double lr, double momentum, double weightDecay, boolean nesterov) {
        this(defaults(lr, momentum, weightDecay, nesterov), List.of(ParamGroup.of(params)));
    }

    private SGD(ParamGroup defaults, List<ParamGroup> groups) {
        super(NAME, groups, defaults, SGD::checkGroup);
    }

    /** SGD over several groups; each option a group leaves unset takes the value given here. */
    public static SGD withGroups(List<ParamGroup> groups, double lr, double momentum, double weightDecay, boolean nesterov) {
        return new SGD(defaults(lr, momentum, weightDecay, nesterov), groups);
    }

    private static ParamGroup defaults(double lr, double momentum, double weightDecay, boolean nesterov) {
        return ParamGroup.defaults(NAME).lr(lr).momentum(momentum).weightDecay(weightDecay).dampening(0).nesterov(nesterov);
    }

    private static void checkGroup(ParamGroup g) {
        if (g.nesterov() && (g.momentum() <= 0 || g.dampening() != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                    + g.momentum() + " and dampening " + g.dampening());
        }
    }

    @Override
    protected void update(ParamGroup g, Parameter p, Tensor grad) {
        Tensor w = p.get();
        double momentum = g.momentum();
        Tensor buf = momentum != 0 ? buffers.get(p) : null;
        boolean first = momentum != 0 && buf == null;
        if (first) {
            buf = Tensors.zerosLike(w);
            buffers.put(p, buf);
        }
        float[] wa = FusedF32.array(w);
        Tensor gc = wa != null ? grad.contiguous() : grad;
        float[] ga = wa != null ? FusedF32.array(gc) : null;
        float[] ba = buf != null ? FusedF32.array(buf) : null;
        if (wa != null && ga != null && (buf == null || ba != null)) {
            var s = new FusedF32.SgdStep((float) g.lr(), (float) g.weightDecay(), (float) momentum, (float) g.dampening(),
                    g.nesterov(), first);
            FusedF32.sgd(s, w.numel(), wa, w.offset(), ga, gc.offset(), ba, buf == null ? 0 : buf.offset());
            return;
        }
        if (FusedCuda.address(w) != 0) {
            var s = new FusedF32.SgdStep((float) g.lr(), (float) g.weightDecay(), (float) momentum, (float) g.dampening(),
                    g.nesterov(), first);
            if (FusedCuda.sgd(s, w, grad.contiguous(), buf)) {
                return;
            }
        }
        Tensor d = g.weightDecay() != 0 ? grad.add(w.mul(g.weightDecay())) : grad;
        if (buf != null) {
            if (first) {
                buf.copyFrom(d);
            } else {
                buf.mulInPlace(momentum).addInPlace(d, 1 - g.dampening());
            }
            d = g.nesterov() ? d.add(buf.mul(momentum)) : buf;
        }
        w.addInPlace(d, -g.lr());
    }

    @Override
    protected Map<String, Tensor> exportState(Parameter p) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Tensor buf = buffers.get(p);
        if (buf != null) {
            out.put(BUFFER, buf);
        }
        return out;
    }

    @Override
    protected void checkState(Parameter p, Map<String, Tensor> state) {
        StateChecks.names(NAME, state, List.of(BUFFER), List.of());
        StateChecks.likeParameter(NAME, BUFFER, p, state.get(BUFFER));
    }

    @Override
    protected void clearState() {
        buffers.clear();
    }

    @Override
    protected void importState(Parameter p, Map<String, Tensor> state) {
        buffers.put(p, Tensors.zerosLike(p.get()).copyFrom(state.get(BUFFER).to(p.get().device())));
    }
}
