package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;

/** Max pooling with a square window, as {@code torch.nn.MaxPool2d} (stride defaults to the kernel size). */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public MaxPool2d(int kernel, int stride, int padding) {
        super("MaxPool2d", kernel, stride, padding);
    }

    @Override
    Tensor pool(Tensor x) {
        return Functional.maxPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding}, new int[] {1}, false);
    }
}
