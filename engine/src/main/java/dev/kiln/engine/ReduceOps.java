package dev.kiln.engine;

import java.util.Arrays;

/** Reductions over dims (sum, mean, max, min, argmax, argmin, var), with keepdim and gradients. */
final class ReduceOps {
    private ReduceOps() {
    }

    /** Sorted, de-duplicated, wrapped dims; null means all dims. */
    private static int[] normDims(String op, int[] dims, int rank) {
        if (dims == null) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            d[i] = Shape.dim(op, dims[i], rank);
        }
        Arrays.sort(d);
        for (int i = 1; i < d.length; i++) {
            if (d[i] == d[i - 1]) {
                throw new IllegalArgumentException(op + ": dim " + d[i] + " given twice in " + Arrays.toString(dims));
            }
        }
        return rank == 0 ? new int[0] : d;
    }

    private static int[] keptShape(int[] shape, int[] dims) {
        int[] s = shape.clone();
        for (int d : dims) {
            s[d] = 1;
        }
        return s;
    }

    private static int[] droppedShape(int[] shape, int[] dims) {
        int[] s = new int[shape.length - dims.length];
        int j = 0;
        for (int i = 0; i < shape.length; i++) {
            if (Arrays.binarySearch(dims, i) < 0) {
                s[j++] = shape[i];
            }
        }
        return s;
    }

    private static Tensor raw(Backend.Reduction r, Tensor x, int[] dims, boolean keepDim) {
        Tensor out = x;
        for (int i = dims.length - 1; i >= 0; i--) {
            out = x.backend().reduce(r, out, dims[i]);
        }
        if (dims.length == 0) {
            out = x.backend().contiguous(x);
        }
        return keepDim ? out : out.detach().reshape(droppedShape(x.shapeRef(), dims));
    }

    static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        MathOps.requireFloating("sum", x);
        int[] d = normDims("sum", dims, x.rank());
        Tensor y = raw(Backend.Reduction.SUM, x, d, keepDim);
        int[] kept = keptShape(x.shapeRef(), d);
        return Autograd.record("sum", y, g -> new Tensor[] {g.reshape(kept).expand(x.shapeRef())}, x);
    }

    static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        MathOps.requireFloating("mean", x);
        int[] d = normDims("mean", dims, x.rank());
        int count = 1;
        for (int i : d) {
            count *= x.shapeRef()[i];
        }
        if (count == 0) {
            throw new IllegalArgumentException("mean: cannot average over an empty set of elements, shape " + Shape.str(x.shapeRef()));
        }
        return sum(x, dims, keepDim).div(count);
    }

    static Tensor max(Tensor x, int[] dims, boolean keepDim) {
        return extreme("max", Backend.Reduction.MAX, x, dims, keepDim);
    }

    static Tensor min(Tensor x, int[] dims, boolean keepDim) {
        return extreme("min", Backend.Reduction.MIN, x, dims, keepDim);
    }

    /** Gradient goes to the extreme elements, split evenly among ties. */
    private static Tensor extreme(String op, Backend.Reduction r, Tensor x, int[] dims, boolean keepDim) {
        MathOps.requireFloating(op, x);
        int[] d = normDims(op, dims, x.rank());
        if (x.numel() == 0) {
            throw new IllegalArgumentException(op + ": cannot reduce an empty tensor of shape " + Shape.str(x.shapeRef()));
        }
        Tensor kept = raw(r, x, d, true);
        Tensor y = keepDim ? kept : kept.reshape(droppedShape(x.shapeRef(), d));
        return Autograd.record(op, y, g -> {
            Tensor mask = x.eq(kept).to(x.dtype());
            Tensor count = raw(Backend.Reduction.SUM, mask, d, true);
            return new Tensor[] {mask.div(count).mul(g.reshape(kept.shapeRef()))};
        }, x);
    }

    static Tensor argmax(Tensor x, int dim, boolean keepDim) {
        return argExtreme("argmax", Backend.Reduction.ARGMAX, x, dim, keepDim);
    }

    static Tensor argmin(Tensor x, int dim, boolean keepDim) {
        return argExtreme("argmin", Backend.Reduction.ARGMIN, x, dim, keepDim);
    }

    private static Tensor argExtreme(String op, Backend.Reduction r, Tensor x, int dim, boolean keepDim) {
        Tensor v = x.dtype().isFloating() ? x : x.to(DType.F64);
        int d = Shape.dim(op, dim, v.rank());
        if (v.rank() == 0) {
            return Tensors.zeros(DType.I64);
        }
        return raw(r, v, new int[] {d}, keepDim);
    }

    static Tensor var(Tensor x, int[] dims, boolean unbiased, boolean keepDim) {
        MathOps.requireFloating("var", x);
        int[] d = normDims("var", dims, x.rank());
        int count = 1;
        for (int i : d) {
            count *= x.shapeRef()[i];
        }
        int denom = unbiased ? count - 1 : count;
        if (denom <= 0) {
            throw new IllegalArgumentException("var: need at least " + (unbiased ? 2 : 1) + " elements per reduction, got " + count
                    + " for shape " + Shape.str(x.shapeRef()));
        }
        Tensor mu = mean(x, d, true);
        Tensor dev = x.sub(mu);
        return sum(dev.square(), d, keepDim).div(denom);
    }
}
