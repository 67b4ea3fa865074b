package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/** {@code 1 / (1 + exp(-x))} elementwise, as {@code torch.nn.Sigmoid}. */
public final class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.sigmoid();
    }

    @Override
    protected String describe() {
        return "Sigmoid";
    }
}
