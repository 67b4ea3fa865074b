package dev.kiln.engine;

/** Matrix products with torch.matmul semantics, on one batched GEMM primitive with its gradient. */
final class LinalgOps {
    private LinalgOps() {
    }

    static Tensor matmul(Tensor a, Tensor b) {
        MathOps.requireFloating("matmul", a);
        MathOps.requireFloating("matmul", b);
        MathOps.requireSame("matmul", a, b);
        int ra = a.rank();
        int rb = b.rank();
        if (ra == 0 || rb == 0) {
            throw new IllegalArgumentException("matmul: expected tensors with at least one dim, got " + Shape.str(a.shapeRef()) + " x "
                    + Shape.str(b.shapeRef()));
        }
        if (ra == 1 && rb == 1) {
            return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape();
        }
        if (ra == 1) {
            return matmul(a.unsqueeze(0), b).squeeze(-2);
        }
        if (rb == 1) {
            return matmul(a, b.unsqueeze(1)).squeeze(-1);
        }
        int m = a.size(-2);
        int k = a.size(-1);
        int kb = b.size(-2);
        int n = b.size(-1);
        if (k != kb) {
            throw new IllegalArgumentException("matmul: inner dims differ: " + Shape.str(a.shapeRef()) + " x " + Shape.str(b.shapeRef()));
        }
        if (ra == 2 && rb == 2) {
            return mm3(a.unsqueeze(0), b.unsqueeze(0)).reshape(m, n);
        }
        if (rb == 2) {
            int[] out = a.shape();
            out[ra - 1] = n;
            return mm3(a.reshape(1, -1, k), b.unsqueeze(0)).reshape(out);
        }
        int[] ba = java.util.Arrays.copyOf(a.shapeRef(), ra - 2);
        int[] bb = java.util.Arrays.copyOf(b.shapeRef(), rb - 2);
        int[] batch = Shape.broadcast("matmul", ba, bb);
        int nb = Shape.numel(batch);
        Tensor a3 = java.util.Arrays.equals(ba, batch) ? a.reshape(nb, m, k) : expandBatch(a, batch, m, k, nb);
        Tensor b3 = java.util.Arrays.equals(bb, batch) ? b.reshape(nb, k, n) : expandBatch(b, batch, k, n, nb);
        int[] out = java.util.Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = n;
        return mm3(a3, b3).reshape(out);
    }

    private static Tensor expandBatch(Tensor x, int[] batch, int r, int c, int nb) {
        if (x.rank() == 2 || Shape.numel(java.util.Arrays.copyOf(x.shapeRef(), x.rank() - 2)) == 1) {
            return x.reshape(1, r, c);
        }
        int[] full = java.util.Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = r;
        full[batch.length + 1] = c;
        return x.expand(full).reshape(nb, r, c);
    }

    /** [B|1, m, k] x [B|1, k, n] -> [B, m, n]. */
    private static Tensor mm3(Tensor a, Tensor b) {
        Tensor y = a.backend().matmul(a, false, b, false);
        return Autograd.record("matmul", y, g -> {
            Backend be = g.backend();
            Tensor ga = null;
            Tensor gb = null;
            if (a.requiresGrad()) {
                ga = columnMajor(a) ? be.matmul(b, false, g, true).transpose(1, 2) : be.matmul(g, false, b, true);
                if (a.size(0) == 1 && ga.size(0) != 1) {
                    ga = be.reduce(Backend.Reduction.SUM, ga, 0);
                }
            }
            if (b.requiresGrad()) {
                gb = columnMajor(b) ? be.matmul(g, true, a, false).transpose(1, 2) : be.matmul(a, true, g, false);
                if (b.size(0) == 1 && gb.size(0) != 1) {
                    gb = be.reduce(Backend.Reduction.SUM, gb, 0);
                }
            }
            return new Tensor[] {ga, gb};
        }, a, b);
    }

    /**
     * True when the matrices of a [B, r, c] operand are stored transposed (a transpose view of
     * contiguous data, as a Linear weight used as W^T). Its gradient is then computed transposed
     * too, so it reaches the leaf already laid out like the leaf, without a strided copy.
     */
    private static boolean columnMajor(Tensor t) {
        int[] st = t.stridesRef();
        int[] sh = t.shapeRef();
        return sh[1] > 1 && sh[2] > 1 && st[1] == 1 && st[2] >= sh[1];
    }

    /**
     * {@code act(x W^T + b)}: x {@code [..., in]}, w {@code [out, in]}, b {@code [out]} or null,
     * act ReLU when {@code relu}. One fused backend call forward ({@link Backend#matmulBias}) and one
     * node backward: {@code gz = relu ? (y > 0 ? g : 0) : g}, {@code gx = gz W}, {@code gW = gz^T x}
     * (laid out like W), {@code gb = sum_rows gz}. Values and gradients are those of the composition
     * {@code x.matmul(w.t()).add(b)} (then {@code relu()}), bit for bit on the CPU.
     */
    static Tensor linear(Tensor x, Tensor w, Tensor b, boolean relu) {
        String op = relu ? "linearRelu" : "linear";
        MathOps.requireFloating(op, x);
        MathOps.requireSame(op, x, w);
        if (w.rank() != 2 || x.rank() < 1 || x.size(-1) != w.size(1)) {
            throw new IllegalArgumentException(op + ": expected x [..., in] and weight [out, in], got " + Shape.str(x.shapeRef())
                    + " and " + Shape.str(w.shapeRef()));
        }
        int out = w.size(0);
        if (b != null) {
            MathOps.requireSame(op, x, b);
            if (b.rank() != 1 || b.size(0) != out) {
                throw new IllegalArgumentException(op + ": expected a bias [" + out + "], got " + Shape.str(b.shapeRef()));
            }
        } else {
            Tensor y = matmul(x, w.t());
            return relu ? y.relu() : y;
        }
        if (x.rank() != 2) {
            int[] shape = x.shape();
            shape[shape.length - 1] = out;
            return linear(x.reshape(-1, w.size(1)), w, b, relu).reshape(shape);
        }
        Tensor y;
        try (var ng = Grad.disabled()) {
            y = x.backend().matmulBias(x, false, w, true, b, relu);
        }
        return Autograd.record(op, y, g -> {
            Backend be = g.backend();
            Tensor gz = relu ? be.reluBackward(y, g) : g;
            Tensor g3 = gz.unsqueeze(0);
            Tensor gx = !x.requiresGrad() || addedIntoGrad(be, x, gz, false, w, false) ? null
                    : be.matmul(g3, false, w.unsqueeze(0), false).reshape(x.shapeRef());
            Tensor gw = !w.requiresGrad() || addedIntoGrad(be, w, gz, true, x, false) ? null
                    : be.matmul(g3, true, x.unsqueeze(0), false).reshape(w.shapeRef());
            Tensor gb = !b.requiresGrad() ? null
                    : gz.device().type() == Device.Type.CPU && gz.dtype() == DType.F32 ? CpuNn.sumRows(gz) : MathOps.sumTo(gz, b.shapeRef());
            return new Tensor[] {gx, gw, gb};
        }, x, w, b);
    }

    /**
     * Adds {@code op(a) op(b)} straight into {@code leaf}'s existing gradient when it has one that may be written
     * in place ({@link Autograd#leafGradSink}) and the backend fuses it; true when it did (the backward then
     * returns no gradient for that input).
     */
    private static boolean addedIntoGrad(Backend be, Tensor leaf, Tensor a, boolean transA, Tensor b, boolean transB) {
        Tensor sink = Autograd.leafGradSink(leaf, a, b);
        return sink != null && be.matmulAccumulate(sink, a, transA, b, transB);
    }
}
