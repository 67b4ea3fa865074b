package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/** Hyperbolic tangent elementwise, as {@code torch.nn.Tanh}. */
public final class Tanh extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.tanh();
    }

    @Override
    protected String describe() {
        return "Tanh";
    }
}
