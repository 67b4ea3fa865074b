package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/** {@code max(x, 0)} elementwise, as {@code torch.nn.ReLU}. */
public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }

    @Override
    protected String describe() {
        return "ReLU";
    }
}
