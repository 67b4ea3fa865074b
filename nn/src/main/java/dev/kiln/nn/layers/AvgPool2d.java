package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;

/**
 * Average pooling with a square window, as {@code torch.nn.AvgPool2d} (stride defaults to the kernel
 * size; padded zeros count in the average, PyTorch's default).
 */
public final class AvgPool2d extends Pool2d {
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public AvgPool2d(int kernel, int stride, int padding) {
        super("AvgPool2d", kernel, stride, padding);
    }

    @Override
    Tensor pool(Tensor x) {
        return Functional.avgPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding}, false, true);
    }
}
