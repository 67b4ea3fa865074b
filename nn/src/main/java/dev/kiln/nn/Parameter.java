package dev.kiln.nn;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import java.util.Arrays;

/**
 * A trainable tensor owned by a module. The holder stays the same while its tensor may be
 * replaced (loading a checkpoint, moving to a device), so optimizers and layers keep one
 * reference. Layers read it with {@link #get()} in their forward pass.
 */
public final class Parameter {
    private Tensor value;

    /** Wraps {@code value} (a leaf) and marks it as requiring a gradient. */
    public Parameter(Tensor value) {
        if (!value.isLeaf()) {
            throw new IllegalArgumentException("Parameter: expected a leaf tensor, got the result of '" + value.gradFn().op()
                    + "' (detach() it first)");
        }
        this.value = value.requiresGrad(true);
    }

    /** The current tensor. */
    public Tensor get() {
        return value;
    }

    /** The gradient accumulated by backward, or null. */
    public Tensor grad() {
        return value.grad();
    }

    /** Clears the gradient (sets it to null). */
    public void zeroGrad() {
        value.setGrad(null);
    }

    /** Clears the gradient: sets it to null ({@code setToNone}), or fills the held one with zeros in place. */
    public void zeroGrad(boolean setToNone) {
        Tensor g = value.grad();
        if (setToNone || g == null) {
            value.setGrad(null);
            return;
        }
        try (var ng = Grad.disabled()) {
            g.fill(0);
        }
    }

    /** Whether this parameter is trained (its tensor requires a gradient). */
    public boolean trainable() {
        return value.requiresGrad();
    }

    /** Freezes ({@code false}) or unfreezes the parameter; a frozen one gets no gradient. */
    public Parameter trainable(boolean on) {
        value.requiresGrad(on);
        if (!on) {
            value.setGrad(null);
        }
        return this;
    }

    /** Replaces the tensor; shape and dtype must match, the trainable flag is kept. */
    public void set(Tensor t) {
        if (!Arrays.equals(t.shape(), value.shape()) || t.dtype() != value.dtype()) {
            throw new IllegalArgumentException("Parameter.set: expected " + Arrays.toString(value.shape()) + " " + value.dtype()
                    + ", got " + Arrays.toString(t.shape()) + " " + t.dtype());
        }
        boolean on = value.requiresGrad();
        value = t.detach().requiresGrad(on);
    }

    /** Moves the tensor to {@code device} (gradient dropped). */
    public void to(Device device) {
        if (!device.equals(value.device())) {
            boolean on = value.requiresGrad();
            value = value.detach().to(device).requiresGrad(on);
        }
    }

    /** Converts the tensor to the floating {@code dtype} (gradient dropped), keeping the trainable flag. */
    public void to(DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("Parameter.to: expected a floating dtype (F32 or F64), got " + dtype);
        }
        if (dtype != value.dtype()) {
            boolean on = value.requiresGrad();
            value = value.detach().to(dtype).requiresGrad(on);
        }
    }

    /** Number of elements. */
    public int numel() {
        return value.numel();
    }

    @Override
    public String toString() {
        return "Parameter" + Arrays.toString(value.shape()) + " " + value.dtype() + (trainable() ? "" : " frozen");
    }
}
