package dev.kiln.nn.data;

import dev.kiln.engine.Generator;

/**
 * A change applied to one sample in place, as the loader builds a batch. {@link #apply} reads the
 * sample of {@code shape} stored row-major at {@code buf[off...]} and writes its result, of shape
 * {@link #outputShape outputShape(shape)}, from the same offset; {@code buf} has room for
 * {@link #bufferSize bufferSize(shape)} floats from {@code off}. Random transforms draw their
 * parameters only from {@code g}, which the loader seeds per sample and epoch, so the result does
 * not depend on thread timing. Implementations must be safe to call from several threads.
 *
 * <pre>{@code
 * Transform t = Transforms.compose(Transforms.randomCrop(28, 4), Transforms.horizontalFlip(0.5),
 *         Transforms.normalize(0.2860, 0.3530));
 * }</pre>
 */
@FunctionalInterface
public interface Transform {
    /** Transforms the sample at {@code buf[off...]} of shape {@code shape} in place. */
    void apply(float[] buf, int off, int[] shape, Generator g);

    /**
     * The shape of the result for a sample of {@code shape}; throws {@link IllegalArgumentException}
     * when the transform cannot take that shape. The default keeps the shape.
     */
    default int[] outputShape(int[] shape) {
        return shape.clone();
    }

    /** Floats of room {@link #apply} needs from {@code off}: the largest of the input, output and any intermediate. */
    default int bufferSize(int[] shape) {
        return Math.max(Transforms.numel(shape), Transforms.numel(outputShape(shape)));
    }
}
