package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * Gaussian error linear unit, as {@code torch.nn.GELU}: exact {@code x * Phi(x)} by default, or
 * PyTorch's {@code approximate="tanh"} form {@code 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))}.
 */
public final class GELU extends Module {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private final boolean tanh;

    /** The exact (erf) form. */
    public GELU() {
        this("none");
    }

    /** {@code approximate} is {@code "none"} (exact) or {@code "tanh"}, as in PyTorch. */
    public GELU(String approximate) {
        if (!approximate.equals("none") && !approximate.equals("tanh")) {
            throw new IllegalArgumentException("GELU: expected approximate \"none\" or \"tanh\", got \"" + approximate + "\"");
        }
        this.tanh = approximate.equals("tanh");
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!tanh) {
            return x.gelu();
        }
        Tensor inner = x.add(x.pow(3).mul(0.044715)).mul(SQRT_2_OVER_PI);
        return x.mul(0.5).mul(inner.tanh().add(1));
    }

    @Override
    protected String describe() {
        return tanh ? "GELU(approximate=tanh)" : "GELU";
    }
}
