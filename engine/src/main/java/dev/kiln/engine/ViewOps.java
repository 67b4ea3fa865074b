package dev.kiln.engine;

import java.util.Arrays;

/** Shape ops: views that share storage where the layout allows it, plus cat and stack; all with gradients. */
final class ViewOps {
    private ViewOps() {
    }

    static Tensor contiguous(Tensor x) {
        Tensor y = x.backend().contiguous(x);
        return Autograd.record("contiguous", y, g -> new Tensor[] {g}, x);
    }

    static Tensor clone(Tensor x) {
        Tensor y = x.backend().contiguous(x);
        return Autograd.record("clone", y, g -> new Tensor[] {g}, x);
    }

    /** Resolves one -1 entry and checks the element count. */
    static int[] inferShape(String op, int[] shape, int numel) {
        int[] s = shape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(op + ": only one dim can be -1, got " + Shape.str(shape));
                }
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": expected sizes >= 0 or -1, got " + Shape.str(shape));
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException(op + ": cannot infer -1 in " + Shape.str(shape) + " for " + numel + " elements");
            }
            s[infer] = (int) (numel / known);
        } else if (known != numel) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(shape) + " holds " + known + " elements, the tensor has " + numel);
        }
        return s;
    }

    static Tensor reshape(Tensor x, int[] shape) {
        int[] s = inferShape("reshape", shape, x.numel());
        int[] from = x.shapeRef();
        if (Arrays.equals(s, from)) {
            return x;
        }
        int[] st = viewStrides(from, x.stridesRef(), s);
        Tensor y;
        if (st != null) {
            y = x.viewOf(s, st, x.offset());
        } else {
            Tensor base = x.backend().contiguous(x);
            y = base.viewOf(s, Shape.contiguousStrides(s), base.offset());
        }
        return Autograd.record("reshape", y, g -> new Tensor[] {g.reshape(from)}, x);
    }

    /**
     * Strides that let {@code newShape} view the same elements as (oldShape, oldStrides) in
     * row-major order, or null when no view can (then reshape copies). Dims are matched chunk by
     * chunk, where a chunk is a run of old dims that are contiguous with each other.
     */
    static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
        int[] ns = new int[newShape.length];
        if (Shape.numel(oldShape) == 0 || oldShape.length == 0) {
            return Shape.contiguousStrides(newShape);
        }
        int viewD = newShape.length - 1;
        long chunkBase = oldStrides[oldShape.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int d = oldShape.length - 1; d >= 0; d--) {
            tensorNumel *= oldShape[d];
            if (d == 0 || (oldShape[d - 1] != 1 && oldStrides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    ns[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (d > 0) {
                    chunkBase = oldStrides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? ns : null;
    }

    static Tensor flatten(Tensor x, int startDim, int endDim) {
        int r = x.rank();
        if (r == 0) {
            return reshape(x, new int[] {1});
        }
        int a = Shape.dim("flatten", startDim, r);
        int b = Shape.dim("flatten", endDim, r);
        if (a > b) {
            throw new IllegalArgumentException("flatten: expected startDim <= endDim, got " + startDim + " > " + endDim);
        }
        int[] sh = x.shapeRef();
        int[] s = new int[r - (b - a)];
        System.arraycopy(sh, 0, s, 0, a);
        s[a] = Shape.prod(sh, a, b + 1);
        System.arraycopy(sh, b + 1, s, a + 1, r - b - 1);
        return reshape(x, s);
    }

    static Tensor permute(Tensor x, int[] dims) {
        int r = x.rank();
        if (dims.length != r) {
            throw new IllegalArgumentException("permute: expected " + r + " dims for shape " + Shape.str(x.shapeRef()) + ", got "
                    + Arrays.toString(dims));
        }
        int[] p = new int[r];
        boolean[] seen = new boolean[r];
        int[] inv = new int[r];
        int[] s = new int[r];
        int[] st = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = Shape.dim("permute", dims[i], r);
            if (seen[p[i]]) {
                throw new IllegalArgumentException("permute: dim " + p[i] + " repeated in " + Arrays.toString(dims));
            }
            seen[p[i]] = true;
            inv[p[i]] = i;
            s[i] = x.shapeRef()[p[i]];
            st[i] = x.stridesRef()[p[i]];
        }
        Tensor y = x.viewOf(s, st, x.offset());
        return Autograd.record("permute", y, g -> new Tensor[] {g.permute(inv)}, x);
    }

    static Tensor transpose(Tensor x, int d0, int d1) {
        int r = x.rank();
        int a = Shape.dim("transpose", d0, r);
        int b = Shape.dim("transpose", d1, r);
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        p[a] = b;
        p[b] = a;
        return permute(x, p);
    }

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        int d = Shape.dim("narrow", dim, x.rank());
        int size = x.shapeRef()[d];
        if (start < 0 || length < 0 || start + length > size) {
            throw new IndexOutOfBoundsException("narrow: range [" + start + ", " + (start + length) + ") out of bounds for dim " + d
                    + " of size " + size + " (shape " + Shape.str(x.shapeRef()) + ")");
        }
        int[] s = x.shape();
        s[d] = length;
        Tensor y = x.viewOf(s, x.strides(), x.offset() + start * x.stridesRef()[d]);
        int[] from = x.shapeRef();
        return Autograd.record("narrow", y, g -> {
            Tensor gx = g.backend().zeros(g.dtype(), from);
            gx.narrow(d, start, length).copyFrom(g);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor select(Tensor x, int dim, int index) {
        int d = Shape.dim("select", dim, x.rank());
        int size = x.shapeRef()[d];
        int i = index < 0 ? index + size : index;
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + d + " of size " + size);
        }
        return squeeze(narrow(x, d, i, 1), d);
    }

    static Tensor expand(Tensor x, int[] shape) {
        int[] xs = x.shapeRef();
        if (shape.length < xs.length) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shape.str(xs) + " to fewer dims " + Shape.str(shape));
        }
        int lead = shape.length - xs.length;
        int[] s = new int[shape.length];
        int[] st = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            int want = shape[i];
            if (i < lead) {
                if (want < 0) {
                    throw new IllegalArgumentException("expand: -1 not allowed for a new leading dim in " + Shape.str(shape));
                }
                s[i] = want;
                continue;
            }
            int have = xs[i - lead];
            if (want == -1 || want == have) {
                s[i] = have;
                st[i] = x.stridesRef()[i - lead];
            } else if (have == 1) {
                s[i] = want;
            } else {
                throw new IllegalArgumentException("expand: cannot expand " + Shape.str(xs) + " to " + Shape.str(shape)
                        + " (dim " + i + " has size " + have + ", not 1)");
            }
        }
        if (Arrays.equals(s, xs)) {
            return x;
        }
        Tensor y = x.viewOf(s, st, x.offset());
        return Autograd.record("expand", y, g -> new Tensor[] {MathOps.sumTo(g, xs)}, x);
    }

    static Tensor squeeze(Tensor x) {
        int[] xs = x.shapeRef();
        int[] st = x.stridesRef();
        int kept = (int) Arrays.stream(xs).filter(v -> v != 1).count();
        if (kept == xs.length) {
            return x;
        }
        int[] s = new int[kept];
        int[] t = new int[kept];
        for (int i = 0, j = 0; i < xs.length; i++) {
            if (xs[i] != 1) {
                s[j] = xs[i];
                t[j++] = st[i];
            }
        }
        return sizeOneView("squeeze", x, s, t);
    }

    static Tensor squeeze(Tensor x, int dim) {
        int d = Shape.dim("squeeze", dim, x.rank());
        int[] xs = x.shapeRef();
        if (xs.length == 0 || xs[d] != 1) {
            return x;
        }
        int[] st = x.stridesRef();
        int[] s = new int[xs.length - 1];
        int[] t = new int[xs.length - 1];
        System.arraycopy(xs, 0, s, 0, d);
        System.arraycopy(xs, d + 1, s, d, xs.length - d - 1);
        System.arraycopy(st, 0, t, 0, d);
        System.arraycopy(st, d + 1, t, d, xs.length - d - 1);
        return sizeOneView("squeeze", x, s, t);
    }

    static Tensor unsqueeze(Tensor x, int dim) {
        int r = x.rank() + 1;
        int d = Shape.dim("unsqueeze", dim, r);
        int[] xs = x.shapeRef();
        int[] st = x.stridesRef();
        int[] s = new int[r];
        int[] t = new int[r];
        System.arraycopy(xs, 0, s, 0, d);
        System.arraycopy(st, 0, t, 0, d);
        s[d] = 1;
        t[d] = d < xs.length ? xs[d] * st[d] : 1;
        System.arraycopy(xs, d, s, d + 1, xs.length - d);
        System.arraycopy(st, d, t, d + 1, xs.length - d);
        return sizeOneView("unsqueeze", x, s, t);
    }

    /** A view that only adds or drops size-1 dims (so it shares storage whatever the strides). */
    private static Tensor sizeOneView(String op, Tensor x, int[] shape, int[] strides) {
        int[] from = x.shapeRef();
        Tensor y = x.viewOf(shape, strides, x.offset());
        return Autograd.record(op, y, g -> new Tensor[] {g.reshape(from)}, x);
    }

    static Tensor cat(Tensor[] xs, int dim) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("cat: expected at least one tensor, got none");
        }
        Tensor first = xs[0];
        int r = first.rank();
        if (r == 0) {
            throw new IllegalArgumentException("cat: expected tensors with at least one dim, got a scalar");
        }
        int d = Shape.dim("cat", dim, r);
        int total = 0;
        for (Tensor t : xs) {
            MathOps.requireSame("cat", first, t);
            int[] ts = t.shapeRef();
            boolean ok = ts.length == r;
            for (int i = 0; ok && i < r; i++) {
                ok = i == d || ts[i] == first.shapeRef()[i];
            }
            if (!ok) {
                throw new IllegalArgumentException("cat: shapes must match except in dim " + d + ": " + Shape.str(first.shapeRef())
                        + " and " + Shape.str(ts));
            }
            total += ts[d];
        }
        int[] s = first.shape();
        s[d] = total;
        Tensor y = first.backend().zeros(first.dtype(), s);
        int at = 0;
        int[] starts = new int[xs.length];
        for (int i = 0; i < xs.length; i++) {
            starts[i] = at;
            int len = xs[i].shapeRef()[d];
            first.backend().copy(y.narrow(d, at, len), xs[i]);
            at += len;
        }
        return Autograd.record("cat", y, g -> {
            Tensor[] gs = new Tensor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                gs[i] = g.narrow(d, starts[i], xs[i].shapeRef()[d]);
            }
            return gs;
        }, xs);
    }

    static Tensor stack(Tensor[] xs, int dim) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("stack: expected at least one tensor, got none");
        }
        int d = Shape.dim("stack", dim, xs[0].rank() + 1);
        Tensor[] u = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            if (!Arrays.equals(xs[i].shapeRef(), xs[0].shapeRef())) {
                throw new IllegalArgumentException("stack: expected equal shapes, got " + Shape.str(xs[0].shapeRef()) + " and "
                        + Shape.str(xs[i].shapeRef()));
            }
            u[i] = unsqueeze(xs[i], d);
        }
        return cat(u, d);
    }
}
