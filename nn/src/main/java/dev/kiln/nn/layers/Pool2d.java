package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;
import java.util.Arrays;

/**
 * A pooling layer with a square window: kernel, stride (defaults to the kernel) and zero padding, as
 * PyTorch's {@code MaxPool2d} and {@code AvgPool2d}. Inputs are {@code [N, C, H, W]} or {@code [C, H, W]}.
 */
public abstract sealed class Pool2d extends Module permits AvgPool2d, MaxPool2d {
    private final String name;
    final int kernel;
    final int stride;
    final int padding;

    Pool2d(String name, int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException(name + ": expected kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2, got kernel="
                    + kernel + " stride=" + stride + " padding=" + padding);
        }
        this.name = name;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    /** The pooling itself, on an input already checked. */
    abstract Tensor pool(Tensor x);

    @Override
    public final Tensor forward(Tensor x) {
        checkInput(describe(), x, kernel - 2 * padding, kernel - 2 * padding);
        return pool(x);
    }

    @Override
    protected String describe() {
        return name + "(k=" + kernel + ", s=" + stride + (padding != 0 ? ", p=" + padding : "") + ")";
    }

    /** Requires {@code [N, C, H, W]} or {@code [C, H, W]} with H and W at least {@code minH x minW}. */
    static void checkInput(String description, Tensor x, int minH, int minW) {
        int r = x.rank();
        if ((r != 4 && r != 3) || x.size(-2) < minH || x.size(-1) < minW) {
            throw new IllegalArgumentException(description + ": expected input [N, C, H, W] or [C, H, W] with H >= " + minH + " and W >= "
                    + minW + ", got " + Arrays.toString(x.shape()));
        }
    }
}
