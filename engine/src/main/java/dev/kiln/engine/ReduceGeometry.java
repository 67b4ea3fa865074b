package dev.kiln.engine;

import java.util.Locale;

/**
 * A reduction over dim {@code dim} of a contiguous tensor seen as {@code [outer, n, inner]}, with the
 * output shape (dim kept as 1) and whether it yields indices; shared by the CPU and CUDA backends.
 */
record ReduceGeometry(int outer, int n, int inner, int[] outShape, boolean arg) {
    /** Fails when an empty dim is reduced by anything but a sum (which gives zeros). */
    static ReduceGeometry of(Backend.Reduction r, int[] shape, int dim) {
        int n = shape[dim];
        if (n == 0 && r != Backend.Reduction.SUM) {
            throw new IllegalArgumentException(r.name().toLowerCase(Locale.ROOT) + ": cannot reduce an empty dim " + dim
                    + " of shape " + Shape.str(shape));
        }
        int[] outShape = shape.clone();
        outShape[dim] = 1;
        return new ReduceGeometry(Shape.prod(shape, 0, dim), n, Shape.prod(shape, dim + 1, shape.length), outShape,
                r == Backend.Reduction.ARGMAX || r == Backend.Reduction.ARGMIN);
    }
}
