package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/** Average pooling to a fixed {@code oh x ow} output whatever the input size, as {@code torch.nn.AdaptiveAvgPool2d}. */
public final class AdaptiveAvgPool2d extends Module {
    private final int oh;
    private final int ow;

    public AdaptiveAvgPool2d(int oh, int ow) {
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("AdaptiveAvgPool2d: expected an output size >= 1, got " + oh + "x" + ow);
        }
        this.oh = oh;
        this.ow = ow;
    }

    @Override
    public Tensor forward(Tensor x) {
        Pool2d.checkInput(describe(), x, 1, 1);
        return Functional.adaptiveAvgPool2d(x, oh, ow);
    }

    @Override
    protected String describe() {
        return "AdaptiveAvgPool2d(" + oh + "x" + ow + ")";
    }
}
