package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * Average pooling with a square window, as {@code torch.nn.AvgPool2d} (stride defaults to the kernel
 * size; padded zeros count in the average, PyTorch's default).
 */
public final class AvgPool2d extends Module {
    private final int kernel;
    private final int stride;
    private final int padding;

    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public AvgPool2d(int kernel, int stride, int padding) {
        Pooling.checkGeometry("AvgPool2d", kernel, stride, padding);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    public Tensor forward(Tensor x) {
        Pooling.checkInput(describe(), x, kernel - 2 * padding, kernel - 2 * padding);
        return Functional.avgPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding}, false, true);
    }

    @Override
    protected String describe() {
        return Pooling.describe("AvgPool2d", kernel, stride, padding);
    }
}
