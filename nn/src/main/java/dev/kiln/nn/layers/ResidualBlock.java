package dev.kiln.nn.layers;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * ResNet's basic block: {@code relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))} with 3x3
 * convolutions without bias; {@code conv1} carries the stride. The shortcut is the identity (an
 * empty {@link Sequential}) when the shape is kept, else a 1x1 convolution with the stride followed
 * by batch norm (children {@code "0"} and {@code "1"}). Children: conv1, bn1, conv2, bn2, shortcut.
 */
public final class ResidualBlock extends Module {
    private final int in;
    private final int out;
    private final int stride;
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Conv2d conv2;
    private final BatchNorm2d bn2;
    private final Sequential shortcut;

    public ResidualBlock(int in, int out, int stride, Generator g) {
        if (stride < 1) {
            throw new IllegalArgumentException("ResidualBlock: expected stride >= 1, got " + stride);
        }
        this.in = in;
        this.out = out;
        this.stride = stride;
        this.conv1 = register("conv1", conv(in, out, 3, stride, 1, g));
        this.bn1 = register("bn1", new BatchNorm2d(out));
        this.conv2 = register("conv2", conv(out, out, 3, 1, 1, g));
        this.bn2 = register("bn2", new BatchNorm2d(out));
        this.shortcut = register("shortcut", stride != 1 || in != out
                ? new Sequential(conv(in, out, 1, stride, 0, g), new BatchNorm2d(out))
                : new Sequential());
    }

    private static Conv2d conv(int in, int out, int k, int stride, int padding, Generator g) {
        return new Conv2d(in, out, k, k, new int[] {stride}, new int[] {padding}, new int[] {1}, 1, false, g);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = bn1.forward(conv1.forward(x)).relu();
        h = bn2.forward(conv2.forward(h));
        return h.add(shortcut.forward(x)).relu();
    }

    @Override
    protected String describe() {
        return "ResidualBlock(" + in + " -> " + out + ", s=" + stride + ")";
    }
}
