package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/** Max pooling with a square window, as {@code torch.nn.MaxPool2d} (stride defaults to the kernel size). */
public final class MaxPool2d extends Module {
    private final int kernel;
    private final int stride;
    private final int padding;

    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public MaxPool2d(int kernel, int stride, int padding) {
        Pooling.checkGeometry("MaxPool2d", kernel, stride, padding);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    public Tensor forward(Tensor x) {
        Pooling.checkInput(describe(), x, kernel - 2 * padding, kernel - 2 * padding);
        return Functional.maxPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding}, new int[] {1}, false);
    }

    @Override
    protected String describe() {
        return Pooling.describe("MaxPool2d", kernel, stride, padding);
    }
}
