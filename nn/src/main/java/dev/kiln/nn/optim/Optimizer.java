package dev.kiln.nn.optim;

import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Updates parameters from their gradients, as {@code torch.optim.Optimizer}: parameters sit in
 * {@link ParamGroup}s that carry the hyper-parameters, {@link #step()} updates every trainable
 * parameter that has a gradient (others are skipped) with gradient recording disabled, and the
 * per-parameter state (momentum buffers, moment estimates) is created lazily on a parameter's first
 * update. {@link #stateDict()} and {@link #loadStateDict} save and restore that state and the
 * groups' options so that training can resume from a checkpoint.
 *
 * <pre>{@code
 * Optimizer opt = new SGD(model.parameters(), 0.1, 0.9, 5e-4, true);
 * for (Batch b : loader) {
 *     opt.zeroGrad();
 *     Losses.crossEntropy(model.forward(b.x()), b.y()).backward();
 *     opt.step();
 * }
 * }</pre>
 */
public abstract class Optimizer {
    private final String name;
    private final ParamGroup defaults;
    private final List<ParamGroup> groups = new ArrayList<>();
    private final List<ParamGroup> groupsView = Collections.unmodifiableList(groups);
    private final Map<Parameter, Boolean> members = new IdentityHashMap<>();
    private final Consumer<ParamGroup> groupCheck;

    /**
     * Adds each of {@code groups} (see {@link #addGroup}); {@code name} prefixes error messages,
     * {@code defaults} holds the options a group leaves unset, and {@code groupCheck} checks each
     * group once its defaults are filled in, throwing when a combination of options is invalid.
     */
    protected Optimizer(String name, List<ParamGroup> groups, ParamGroup defaults, Consumer<ParamGroup> groupCheck) {
        this.name = name;
        this.defaults = defaults;
        this.groupCheck = groupCheck;
        if (groups.isEmpty() || groups.stream().allMatch(g -> g.params().isEmpty())) {
            throw new IllegalArgumentException(name + ": got an empty parameter list");
        }
        groups.forEach(this::addGroup);
    }

    /**
     * Adds a group (for example the layers unfrozen later in a fine-tuning), filling the options
     * it leaves unset with this optimizer's defaults. A parameter may belong to one group only.
     */
    public final void addGroup(ParamGroup group) {
        for (Parameter p : group.params()) {
            if (members.containsKey(p)) {
                throw new IllegalArgumentException(name + ": a parameter (" + p + ") appears in more than one parameter group");
            }
        }
        group.fillFrom(defaults);
        groupCheck.accept(group);
        group.params().forEach(p -> members.put(p, Boolean.TRUE));
        groups.add(group);
    }

    /** The groups, in order (read-only list; the groups themselves are mutable). */
    public final List<ParamGroup> groups() {
        return groupsView;
    }

    /** The name used in messages ("SGD", "Adam", ...). */
    public final String name() {
        return name;
    }

    /** Updates every trainable parameter that has a gradient, once. */
    public final void step() {
        try (var ng = Grad.disabled()) {
            for (ParamGroup g : groups) {
                for (Parameter p : g.params()) {
                    Tensor grad = p.grad();
                    if (grad != null && p.trainable()) {
                        update(g, p, grad);
                    }
                }
            }
        }
    }

    /** Clears the gradient of every parameter (sets it to null, PyTorch 2's default). */
    public final void zeroGrad() {
        zeroGrad(true);
    }

    /**
     * Clears the gradient of every parameter: sets it to null ({@code setToNone}, PyTorch 2's default), or fills
     * the held gradients with zeros (PyTorch 1's {@code zero_grad(set_to_none=False)}), so that the next backward
     * adds into the same arrays, which are still in cache; Linear layers then write their weight gradient
     * straight from the GEMM (see {@code Functional.linear}).
     */
    public final void zeroGrad(boolean setToNone) {
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                p.zeroGrad(setToNone);
            }
        }
    }

    /**
     * The state and the group options by key: {@code state.<i>.<name>} for each parameter that has
     * state ({@code i} counts the parameters across the groups in order, as PyTorch does; the
     * tensors are the live state, not copies), {@code param_groups.<g>.params} (I64 indices) and
     * {@code param_groups.<g>.<option>} (F64 scalars: lr, weight_decay, momentum, ...).
     */
    public final Map<String, Tensor> stateDict() {
        return OptimizerState.save(this);
    }

    /**
     * Restores what {@link #stateDict()} saved, into an optimizer over parameters of the same shapes
     * in the same group layout. Everything is checked before anything is changed: a key that is not
     * understood, a layout that differs, or a tensor of the wrong shape throws and leaves this
     * optimizer as it was. Parameters without saved state start fresh.
     */
    public final void loadStateDict(Map<String, Tensor> source) {
        OptimizerState.load(this, source);
    }

    /** Every parameter in state-dict order. */
    final List<Parameter> orderedParams() {
        List<Parameter> out = new ArrayList<>();
        groups.forEach(g -> out.addAll(g.params()));
        return out;
    }

    /** Updates {@code p} from {@code grad} with the options of {@code group}; recording is disabled. */
    protected abstract void update(ParamGroup group, Parameter p, Tensor grad);

    /** The state of {@code p} by name (empty when it has none); the live tensors. */
    protected abstract Map<String, Tensor> exportState(Parameter p);

    /**
     * Checks that {@code state} (names and tensors as {@link #exportState} gives them) can be
     * restored into {@code p}; throws with a message naming what is wrong, changes nothing.
     */
    protected abstract void checkState(Parameter p, Map<String, Tensor> state);

    /** Drops the state of every parameter. */
    protected abstract void clearState();

    /** Sets the state of {@code p} from a checked {@code state} (copied). */
    protected abstract void importState(Parameter p, Map<String, Tensor> state);

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append('(');
        for (int i = 0; i < groups.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(groups.get(i));
        }
        return sb.append(')').toString();
    }
}
