package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.UnaryOp;

/** Elementwise ops with NumPy broadcasting, each with its gradient. */
final class MathOps {
    private MathOps() {
    }

    static String name(Enum<?> op) {
        return op.name().toLowerCase(java.util.Locale.ROOT);
    }

    static void requireFloating(String op, Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating tensor (F32 or F64), got " + t.dtype()
                    + " of shape " + Shape.str(t.shapeRef()) + " (convert with to(DType.F32))");
        }
    }

    static void requireSame(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ: " + a.dtype() + " " + Shape.str(a.shapeRef()) + " and "
                    + b.dtype() + " " + Shape.str(b.shapeRef()) + " (convert one with to(DType))");
        }
        if (!sameDeviceOrScalar(a, b)) {
            throw new IllegalArgumentException(op + ": devices differ: " + a.device() + " and " + b.device());
        }
    }

    /**
     * True when a and b are on one device, or one of them is a one-element CPU tensor (a scalar,
     * which mixes with device tensors as a Python number does in PyTorch).
     */
    static boolean sameDeviceOrScalar(Tensor a, Tensor b) {
        return a.device().equals(b.device()) || cpuScalar(a) || cpuScalar(b);
    }

    private static boolean cpuScalar(Tensor t) {
        return t.device().type() == Device.Type.CPU && t.numel() == 1 && t.rank() == 0;
    }

    static Tensor unary(UnaryOp op, Tensor x) {
        String n = name(op);
        requireFloating(n, x);
        Tensor y = x.backend().unary(op, x);
        return Autograd.record(n, y, g -> new Tensor[] {unaryGrad(op, x, y, g)}, x);
    }

    private static Tensor unaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor g) {
        return switch (op) {
            case NEG -> g.neg();
            case EXP -> g.mul(y);
            case LOG -> g.div(x);
            case SQRT -> g.mul(0.5).div(y);
            case TANH -> g.mul(y.square().neg().add(1));
            case SIGMOID -> g.mul(y.mul(y.neg().add(1)));
            case RELU -> g.backend().reluBackward(y, g); // y > 0 exactly where x > 0 (NaN: neither)
            case GELU -> g.mul(x.backend().unary(UnaryOp.GELU_GRAD, x));
            case ABS -> g.mul(x.sign());
            case SQUARE -> g.mul(x.mul(2));
            case RECIPROCAL -> g.mul(y.square()).neg();
            case SIGN -> Tensors.zerosLike(x);
            case GELU_GRAD -> throw new UnsupportedOperationException("gelu_grad: no second derivative of gelu is provided");
        };
    }

    static Tensor powScalar(Tensor x, double p) {
        requireFloating("pow", x);
        Tensor y = x.backend().powScalar(x, p);
        return Autograd.record("pow", y, g -> new Tensor[] {p == 0 ? Tensors.zerosLike(x) : g.mul(x.pow(p - 1).mul(p))}, x);
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String n = name(op);
        requireFloating(n, a);
        requireFloating(n, b);
        requireSame(n, a, b);
        Tensor y = onDevice(a, b).backend().binary(op, a, b);
        return Autograd.record(n, y, g -> binaryGrad(op, a, b, y, g), a, b);
    }

    private static Tensor[] binaryGrad(BinaryOp op, Tensor a, Tensor b, Tensor y, Tensor g) {
        Tensor ga = null;
        Tensor gb = null;
        boolean wa = a.requiresGrad();
        boolean wb = b.requiresGrad();
        switch (op) {
            case ADD -> {
                ga = g;
                gb = g;
            }
            case SUB -> {
                ga = g;
                gb = wb ? g.neg() : null;
            }
            case MUL -> {
                ga = wa ? g.mul(b) : null;
                gb = wb ? g.mul(a) : null;
            }
            case DIV -> {
                ga = wa ? g.div(b) : null;
                gb = wb ? g.mul(a).div(b.square()).neg() : null;
            }
            case MAX, MIN -> {
                Tensor wins = op == BinaryOp.MAX ? a.gt(b) : a.lt(b);
                Tensor share = wins.to(g.dtype()).add(a.eq(b).to(g.dtype()).mul(0.5));
                ga = wa ? g.mul(share) : null;
                gb = wb ? g.mul(share.neg().add(1)) : null;
            }
            case POW -> {
                ga = wa ? g.mul(b).mul(a.pow(b.sub(1))) : null;
                gb = wb ? a.gt(0).where(g.mul(y).mul(a.log()), Tensors.scalar(g.dtype(), 0)) : null;
            }
        }
        return new Tensor[] {ga == null ? null : sumTo(ga, a.shapeRef()), gb == null ? null : sumTo(gb, b.shapeRef())};
    }

    /** Sums a broadcast gradient back down to {@code shape}. */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shapeRef();
        if (java.util.Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        Tensor r = g;
        for (int d = gs.length - 1; d >= 0; d--) {
            boolean extra = d < lead;
            if (extra || (shape[d - lead] == 1 && gs[d] != 1)) {
                r = r.backend().reduce(Backend.Reduction.SUM, r, d);
            }
        }
        return r.reshape(shape);
    }

    /** The operand whose device computes a mixed op: the non-CPU one when a CPU scalar is mixed in. */
    static Tensor onDevice(Tensor a, Tensor b) {
        return a.device().type() == Device.Type.CPU ? b : a;
    }

    static Tensor compare(CompareOp op, Tensor a, Tensor b) {
        requireSame(name(op), a, b);
        return onDevice(a, b).backend().compare(op, a, b);
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        if (cond.dtype() != DType.BOOL) {
            throw new IllegalArgumentException("where: expected a BOOL condition, got " + cond.dtype() + " " + Shape.str(cond.shapeRef()));
        }
        requireSame("where", a, b);
        if (!sameDeviceOrScalar(cond, onDevice(a, b))) {
            throw new IllegalArgumentException("where: devices differ: condition on " + cond.device() + ", values on "
                    + onDevice(a, b).device());
        }
        Tensor y = onDevice(onDevice(a, b), cond).backend().where(cond, a, b);
        Tensor zero = Tensors.scalar(a.dtype(), 0);
        return Autograd.record("where", y, g -> new Tensor[] {
            a.requiresGrad() ? sumTo(cond.where(g, zero), a.shapeRef()) : null,
            b.requiresGrad() ? sumTo(cond.where(zero, g), b.shapeRef()) : null}, a, b);
    }

    static Tensor clamp(Tensor x, double lo, double hi) {
        requireFloating("clamp", x);
        if (lo > hi) {
            throw new IllegalArgumentException("clamp: expected lo <= hi, got [" + lo + ", " + hi + "]");
        }
        Tensor l = Tensors.scalar(x.dtype(), lo);
        Tensor h = Tensors.scalar(x.dtype(), hi);
        Tensor y = x.backend().binary(BinaryOp.MIN, x.backend().binary(BinaryOp.MAX, x, l), h);
        return Autograd.record("clamp", y, g -> {
            Tensor z = Tensors.scalar(g.dtype(), 0);
            return new Tensor[] {x.ge(l).where(x.le(h).where(g, z), z)};
        }, x);
    }

    static Tensor cast(Tensor x, DType dt) {
        Tensor y = x.backend().zeros(dt, x.shapeRef());
        x.backend().copy(y, x);
        if (!dt.isFloating() || !x.dtype().isFloating()) {
            return y;
        }
        DType from = x.dtype();
        return Autograd.record("cast", y, g -> new Tensor[] {g.to(from)}, x);
    }
}
