package dev.kiln.nn.optim;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update shared by {@link Adam} and {@link AdamW}, as PyTorch's single-tensor implementation:
 * per parameter a step count {@code t} and the running averages {@code m} (exp_avg) and {@code v}
 * (exp_avg_sq), optionally their running maximum (AMSGrad); they differ only in the weight decay,
 * added to the gradient (Adam) or applied to the weight as {@code w *= 1 - lr*wd} (AdamW).
 */
abstract sealed class AdamFamily extends Optimizer permits Adam, AdamW {
    private static final String STEP = "step";
    private static final String EXP_AVG = "exp_avg";
    private static final String EXP_AVG_SQ = "exp_avg_sq";
    private static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";

    /** The state of one parameter. */
    private static final class State {
        final Tensor expAvg;
        final Tensor expAvgSq;
        Tensor maxExpAvgSq;
        long step;

        State(Tensor like) {
            expAvg = Tensors.zerosLike(like);
            expAvgSq = Tensors.zerosLike(like);
        }
    }

    private final boolean decoupled;
    private final Map<Parameter, State> states = new IdentityHashMap<>();

    AdamFamily(String name, boolean decoupled, List<ParamGroup> groups, ParamGroup defaults) {
        super(name, groups, defaults, g -> { });
        this.decoupled = decoupled;
    }

    static ParamGroup defaults(String name, double lr, double beta1, double beta2, double eps, double weightDecay,
                               boolean amsgrad) {
        return ParamGroup.defaults(name).lr(lr).betas(beta1, beta2).eps(eps).weightDecay(weightDecay).amsgrad(amsgrad);
    }

    @Override
    protected final void update(ParamGroup g, Parameter p, Tensor grad) {
        Tensor w = p.get();
        State s = states.computeIfAbsent(p, k -> new State(w));
        if (g.amsgrad() && s.maxExpAvgSq == null) {
            s.maxExpAvgSq = Tensors.zerosLike(w);
        }
        Tensor vmax = g.amsgrad() ? s.maxExpAvgSq : null;
        s.step++;
        double lr = g.lr();
        double beta1 = g.beta1();
        double beta2 = g.beta2();
        double l2 = decoupled ? 0 : g.weightDecay();
        double decay = decoupled ? 1 - lr * g.weightDecay() : 1;
        double stepSize = lr / (1 - Math.pow(beta1, s.step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, s.step));

        float[] wa = FusedF32.array(w);
        Tensor gc = wa != null ? grad.contiguous() : grad;
        float[] ga = wa != null ? FusedF32.array(gc) : null;
        float[] ma = FusedF32.array(s.expAvg);
        float[] va = FusedF32.array(s.expAvgSq);
        float[] xa = vmax != null ? FusedF32.array(vmax) : null;
        if (wa != null && ga != null && ma != null && va != null && (vmax == null || xa != null)) {
            var step = new FusedF32.AdamStep((float) beta1, (float) beta2, (float) g.eps(), (float) l2, (float) decay,
                    (float) stepSize, (float) bc2Sqrt);
            FusedF32.adam(step, w.numel(), wa, w.offset(), ga, gc.offset(), ma, s.expAvg.offset(), va, s.expAvgSq.offset(),
                    xa, vmax == null ? 0 : vmax.offset());
            return;
        }
        if (FusedCuda.address(w) != 0) {
            var step = new FusedF32.AdamStep((float) beta1, (float) beta2, (float) g.eps(), (float) l2, (float) decay,
                    (float) stepSize, (float) bc2Sqrt);
            if (FusedCuda.adam(step, w, grad.contiguous(), s.expAvg, s.expAvgSq, vmax)) {
                return;
            }
        }
        if (decoupled) {
            w.mulInPlace(decay);
        } else if (l2 != 0) {
            grad = grad.add(w.mul(l2));
        }
        s.expAvg.mulInPlace(beta1).addInPlace(grad, 1 - beta1);
        s.expAvgSq.mulInPlace(beta2).addInPlace(grad.mul(grad), 1 - beta2);
        Tensor v = s.expAvgSq;
        if (vmax != null) {
            vmax.copyFrom(vmax.maximum(v));
            v = vmax;
        }
        Tensor denom = v.sqrt().div(bc2Sqrt).add(g.eps());
        w.addInPlace(s.expAvg.div(denom), -stepSize);
    }

    @Override
    protected final Map<String, Tensor> exportState(Parameter p) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        State s = states.get(p);
        if (s != null) {
            out.put(STEP, Tensors.scalar(DType.I64, s.step));
            out.put(EXP_AVG, s.expAvg);
            out.put(EXP_AVG_SQ, s.expAvgSq);
            if (s.maxExpAvgSq != null) {
                out.put(MAX_EXP_AVG_SQ, s.maxExpAvgSq);
            }
        }
        return out;
    }

    @Override
    protected final void checkState(Parameter p, Map<String, Tensor> state) {
        StateChecks.names(name(), state, List.of(STEP, EXP_AVG, EXP_AVG_SQ), List.of(MAX_EXP_AVG_SQ));
        StateChecks.count(name(), STEP, p, state.get(STEP));
        for (String k : List.of(EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ)) {
            if (state.containsKey(k)) {
                StateChecks.likeParameter(name(), k, p, state.get(k));
            }
        }
    }

    @Override
    protected final void clearState() {
        states.clear();
    }

    @Override
    protected final void importState(Parameter p, Map<String, Tensor> state) {
        State s = new State(p.get());
        s.step = StateChecks.count(name(), STEP, p, state.get(STEP));
        s.expAvg.copyFrom(state.get(EXP_AVG).to(p.get().device()));
        s.expAvgSq.copyFrom(state.get(EXP_AVG_SQ).to(p.get().device()));
        if (state.containsKey(MAX_EXP_AVG_SQ)) {
            s.maxExpAvgSq = Tensors.zerosLike(p.get()).copyFrom(state.get(MAX_EXP_AVG_SQ).to(p.get().device()));
        }
        states.put(p, s);
    }
}
