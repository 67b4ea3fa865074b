package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * {@code x} where {@code x > 0}, else {@code slope * x}, as {@code torch.nn.LeakyReLU} (default slope
 * 0.01; the gradient at 0 is {@code slope}, as in PyTorch).
 */
public final class LeakyReLU extends Module {
    private final double slope;

    public LeakyReLU() {
        this(0.01);
    }

    public LeakyReLU(double slope) {
        if (!Double.isFinite(slope)) {
            throw new IllegalArgumentException("LeakyReLU: expected a finite negative slope, got " + slope);
        }
        this.slope = slope;
    }

    public double slope() {
        return slope;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.gt(0).where(x, x.mul(slope));
    }

    @Override
    protected String describe() {
        return "LeakyReLU(" + slope + ")";
    }
}
