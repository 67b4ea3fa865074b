package dev.kiln.nn.optim;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Grad;
import dev.kiln.engine.HeapStorage;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}: both
 * change the gradients in place and skip parameters without one.
 *
 * <pre>{@code
 * loss.backward();
 * double norm = GradClip.clipGradNorm(model.parameters(), 1.0);
 * optimizer.step();
 * }</pre>
 */
public final class GradClip {
    private static final double EPS = 1e-6;

    private GradClip() {
    }

    /** {@link #clipGradNorm(List, double, double)} with the L2 norm. */
    public static double clipGradNorm(List<Parameter> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2);
    }

    /**
     * Computes the {@code normType}-norm of all gradients together (as if concatenated into one
     * vector; {@code Double.POSITIVE_INFINITY} for the largest magnitude) and, when
     * {@code c = maxNorm / (norm + 1e-6)} is below 1, multiplies every gradient by {@code c}.
     * Returns the norm before clipping (0 when no parameter has a gradient). As in PyTorch, a
     * non-finite norm makes {@code c} 0 or NaN and the gradients follow.
     */
    public static double clipGradNorm(List<Parameter> params, double maxNorm, double normType) {
        if (!(maxNorm >= 0)) {
            throw new IllegalArgumentException("clipGradNorm: expected maxNorm >= 0, got " + maxNorm);
        }
        if (!(normType > 0)) {
            throw new IllegalArgumentException("clipGradNorm: expected normType > 0 (or +infinity), got " + normType);
        }
        List<Tensor> grads = grads(params);
        double total = 0;
        for (Tensor g : grads) {
            double part = reduce(g, normType);
            total = normType == Double.POSITIVE_INFINITY ? Math.max(total, part) : total + part;
        }
        if (normType != Double.POSITIVE_INFINITY) {
            total = normType == 2 ? Math.sqrt(total) : Math.pow(total, 1 / normType);
        }
        double coef = maxNorm / (total + EPS);
        if (!(coef >= 1)) {
            try (var ng = Grad.disabled()) {
                grads.forEach(g -> g.mulInPlace(coef));
            }
        }
        return total;
    }

    /** Clamps every gradient element into {@code [-clipValue, clipValue]}. */
    public static void clipGradValue(List<Parameter> params, double clipValue) {
        if (!(clipValue >= 0)) {
            throw new IllegalArgumentException("clipGradValue: expected clipValue >= 0, got " + clipValue);
        }
        try (var ng = Grad.disabled()) {
            for (Tensor g : grads(params)) {
                float[] a = FusedF32.array(g);
                if (a != null) {
                    float hi = (float) clipValue;
                    for (int i = g.offset(), end = g.offset() + g.numel(); i < end; i++) {
                        a[i] = Math.min(Math.max(a[i], -hi), hi);
                    }
                } else {
                    g.copyFrom(g.clamp(-clipValue, clipValue));
                }
            }
        }
    }

    private static List<Tensor> grads(List<Parameter> params) {
        List<Tensor> out = new ArrayList<>();
        for (Parameter p : params) {
            if (p.grad() != null) {
                out.add(p.grad());
            }
        }
        return out;
    }

    /** Sum of |x|^p over {@code g} (max |x| for p = infinity), accumulated in double. */
    private static double reduce(Tensor g, double p) {
        Tensor c = g.isContiguous() && g.storage() instanceof HeapStorage ? g : g.to(Device.CPU).contiguous();
        HeapStorage h = (HeapStorage) c.storage();
        double acc = 0;
        for (int i = c.offset(), end = c.offset() + c.numel(); i < end; i++) {
            double a = Math.abs(c.dtype() == DType.F32 ? h.f32()[i] : h.get(i));
            acc = p == Double.POSITIVE_INFINITY ? Math.max(acc, a) : acc + (p == 2 ? a * a : Math.pow(a, p));
        }
        return acc;
    }
}
