package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * Inverted dropout, as {@code torch.nn.Dropout}: in training each element is zeroed with probability
 * {@code p} (drawn from this layer's generator) and the rest scaled by {@code 1/(1-p)}; the identity
 * in eval.
 */
public final class Dropout extends Module {
    private final double p;
    private final Generator gen;

    public Dropout(double p, Generator g) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("Dropout: expected a probability in [0, 1], got " + p);
        }
        this.p = p;
        this.gen = g;
    }

    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropout(x, p, isTraining(), gen);
    }

    @Override
    protected String describe() {
        return "Dropout(p=" + p + ")";
    }
}
