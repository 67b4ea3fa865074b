package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.UnaryOp;

/**
 * An n-dimensional array with a dtype and a device, a view (shape, strides, offset) over a
 * {@link Storage}, and a place on the autograd tape.
 *
 * <p>Views (reshape wherever the strides allow it, permute, transpose, narrow, expand, squeeze,
 * unsqueeze) share storage; every other op returns a new contiguous tensor. Ops on tensors that
 * require gradients are recorded while {@link Grad#isEnabled()}; {@link #backward()} then fills
 * {@link #grad()} of every leaf that requires one.
 *
 * <pre>{@code
 * Tensor w = Tensors.randn(new Generator(0), 3, 2).requiresGrad(true);
 * Tensor loss = x.matmul(w).relu().mean();
 * loss.backward();
 * Tensor dw = w.grad();
 * }</pre>
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;

    Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    /** A contiguous tensor over {@code storage} (which must hold exactly numel(shape) elements from 0). */
    static Tensor of(Storage storage, int[] shape) {
        return new Tensor(storage, shape.clone(), Shape.contiguousStrides(shape), 0);
    }

    // ---------------------------------------------------------------- metadata

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code dim} (negative counts from the end). */
    public int size(int dim) {
        return shape[Shape.dim("size", dim, shape.length)];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int numel() {
        return Shape.numel(shape);
    }

    /** Element strides (a copy). */
    public int[] strides() {
        return strides.clone();
    }

    /** Offset of the first element in the storage. */
    public int offset() {
        return offset;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    /** The buffer behind this view. */
    public Storage storage() {
        return storage;
    }

    int[] shapeRef() {
        return shape;
    }

    int[] stridesRef() {
        return strides;
    }

    /** True when elements are laid out densely in row-major order (size-1 dims ignored). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) {
                continue;
            }
            if (strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    Backend backend() {
        return Backends.of(device());
    }

    // ---------------------------------------------------------------- autograd

    /** True when gradients flow to or through this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as needing a gradient; returns this. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) {
            throw new IllegalStateException("requiresGrad(false): only leaf tensors can be changed; this one comes from '"
                    + gradFn.op() + "' (use detach())");
        }
        if (on && !dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: expected a floating dtype (F32 or F64), got " + dtype());
        }
        requiresGrad = on;
        return this;
    }

    /** The accumulated gradient of a leaf, or null. */
    public Tensor grad() {
        return grad;
    }

    /** Replaces the gradient (null clears it). */
    public void setGrad(Tensor g) {
        if (g != null && !java.util.Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("setGrad: expected shape " + Shape.str(shape) + ", got " + Shape.str(g.shape));
        }
        grad = g;
    }

    /** The node that produced this tensor, or null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    /** True when no recorded op produced this tensor. */
    public boolean isLeaf() {
        return gradFn == null;
    }

    void attach(Node node) {
        gradFn = node;
        requiresGrad = true;
    }

    /** Same data, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    /** Backpropagates from this scalar. */
    public void backward() {
        Autograd.backward(this, null, false);
    }

    /** Backpropagates {@code gradient} (shape of this tensor) from this tensor. */
    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient, false);
    }

    /** Backpropagates; with {@code retainGraph} the graph can be walked again. */
    public void backward(Tensor gradient, boolean retainGraph) {
        Autograd.backward(this, gradient, retainGraph);
    }

    // ---------------------------------------------------------------- element access

    private int flatIndex(int[] idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("index: expected " + shape.length + " indices for shape " + Shape.str(shape)
                    + ", got " + idx.length);
        }
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index: " + java.util.Arrays.toString(idx) + " out of range for shape " + Shape.str(shape));
            }
            p += idx[i] * strides[i];
        }
        return p;
    }

    /** Element at {@code idx} as a double (a device tensor is copied to the CPU first). */
    public double getDouble(int... idx) {
        if (!(storage instanceof HeapStorage h)) {
            return onCpu().getDouble(idx);
        }
        return h.get(flatIndex(idx));
    }

    /** This tensor's values on the CPU, for reading: this tensor itself when it is there. */
    private Tensor onCpu() {
        return storage instanceof HeapStorage ? this : Backends.transfer(this, Device.CPU);
    }

    /** Element at {@code idx} as a float. */
    public float getFloat(int... idx) {
        return (float) getDouble(idx);
    }

    /** Element at {@code idx} as a long (exact for integer dtypes). */
    public long getLong(int... idx) {
        if (!(storage instanceof HeapStorage h)) {
            return onCpu().getLong(idx);
        }
        return h.getLong(flatIndex(idx));
    }

    /** The single value of a one-element tensor (waits for a device tensor's pending work). */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item: expected a tensor with one element, got shape " + Shape.str(shape));
        }
        if (!(storage instanceof HeapStorage h)) {
            return onCpu().item();
        }
        return h.get(offset);
    }

    /** All elements in row-major order, as floats. */
    public float[] toFloatArray() {
        Tensor c = to(DType.F32).contiguousData();
        float[] src = ((HeapStorage) c.storage).f32();
        return java.util.Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    /** All elements in row-major order, as doubles. */
    public double[] toDoubleArray() {
        Tensor c = to(DType.F64).contiguousData();
        double[] src = ((HeapStorage) c.storage).f64();
        return java.util.Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    /** All elements in row-major order, as longs. */
    public long[] toLongArray() {
        Tensor c = to(DType.I64).contiguousData();
        long[] src = ((HeapStorage) c.storage).i64();
        return java.util.Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    private Tensor contiguousData() {
        Tensor c = onCpu();
        return c.isContiguous() ? c : c.backend().contiguous(c);
    }

    // ---------------------------------------------------------------- conversions and copies

    /** This tensor converted to {@code dt} (this tensor itself when it already has that dtype). */
    public Tensor to(DType dt) {
        return dt == dtype() ? this : MathOps.cast(this, dt);
    }

    /**
     * This tensor on {@code device} (this tensor itself when it is already there); recorded, so the
     * gradient flows back to the source device.
     *
     * @throws dev.kiln.kernels.cuda.CudaUnavailableException when {@code d} is a CUDA device that
     *         cannot be used here, with one sentence saying why
     */
    public Tensor to(Device d) {
        if (d.equals(device())) {
            return this;
        }
        Device from = device();
        Tensor y = Backends.transfer(this, d);
        return Autograd.record("to", y, g -> new Tensor[] {g.to(from)}, this);
    }

    /** A contiguous tensor with the same values: this one when already contiguous. */
    public Tensor contiguous() {
        return isContiguous() ? this : ViewOps.contiguous(this);
    }

    /** A new tensor with a copy of the data (recorded: the gradient passes through). */
    public Tensor copy() {
        return ViewOps.clone(this);
    }

    /**
     * Copies {@code src} (broadcast to this shape, converted to this dtype, from any device, as
     * PyTorch's {@code copy_}) into this tensor or view.
     */
    public Tensor copyFrom(Tensor src) {
        checkInPlace("copyFrom");
        Tensor s = src.device().equals(device()) ? src : Backends.transfer(src.detach(), device());
        checkBroadcastsHere("copyFrom", s);
        backend().copy(this, s);
        return this;
    }

    /** Sets every element to {@code v}. */
    public Tensor fill(double v) {
        checkInPlace("fill");
        backend().fill(this, v);
        return this;
    }

    /** this += other (broadcast), in place, not recorded. */
    public Tensor addInPlace(Tensor other) {
        checkInPlace("addInPlace");
        checkArithmeticInPlace("addInPlace", other);
        backend().binaryInPlace(BinaryOp.ADD, this, other);
        return this;
    }

    /** this += alpha * other, in place, not recorded. */
    public Tensor addInPlace(Tensor other, double alpha) {
        checkInPlace("addInPlace");
        checkArithmeticInPlace("addInPlace", other);
        backend().axpy(this, alpha, other);
        return this;
    }

    /** this *= s, in place, not recorded. */
    public Tensor mulInPlace(double s) {
        checkInPlace("mulInPlace");
        MathOps.requireFloating("mulInPlace", this);
        backend().binaryInPlace(BinaryOp.MUL, this, Tensors.scalar(dtype(), s));
        return this;
    }

    /** In-place arithmetic needs a floating tensor and a source that broadcasts to this shape. */
    private void checkArithmeticInPlace(String op, Tensor src) {
        MathOps.requireFloating(op, this);
        MathOps.requireFloating(op, src);
        checkBroadcastsHere(op, src);
    }

    private void checkBroadcastsHere(String op, Tensor src) {
        if (!MathOps.sameDeviceOrScalar(this, src)) {
            throw new IllegalArgumentException(op + ": devices differ: " + device() + " and " + src.device());
        }
        int[] b = Shape.broadcast(op, shape, src.shape);
        if (!java.util.Arrays.equals(b, shape)) {
            throw new IllegalArgumentException(op + ": expected a source that broadcasts to " + Shape.str(shape) + ", got "
                    + Shape.str(src.shape));
        }
    }

    private void checkInPlace(String op) {
        if (requiresGrad && Grad.isEnabled()) {
            throw new IllegalStateException(op + ": in-place change of a tensor that requires grad while recording; "
                    + "wrap it in Grad.disabled() (as optimizers do) or use the out-of-place op");
        }
    }

    // ---------------------------------------------------------------- views

    public Tensor reshape(int... newShape) {
        return ViewOps.reshape(this, newShape);
    }

    /** Alias of {@link #reshape}. */
    public Tensor view(int... newShape) {
        return ViewOps.reshape(this, newShape);
    }

    public Tensor flatten(int startDim, int endDim) {
        return ViewOps.flatten(this, startDim, endDim);
    }

    public Tensor permute(int... dims) {
        return ViewOps.permute(this, dims);
    }

    public Tensor transpose(int d0, int d1) {
        return ViewOps.transpose(this, d0, d1);
    }

    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        if (rank() != 2) {
            throw new IllegalArgumentException("t: expected a 2-D tensor, got shape " + Shape.str(shape));
        }
        return ViewOps.transpose(this, 0, 1);
    }

    public Tensor narrow(int dim, int start, int length) {
        return ViewOps.narrow(this, dim, start, length);
    }

    /** The slice at {@code index} along {@code dim}, with that dim removed. */
    public Tensor select(int dim, int index) {
        return ViewOps.select(this, dim, index);
    }

    public Tensor expand(int... newShape) {
        return ViewOps.expand(this, newShape);
    }

    public Tensor squeeze() {
        return ViewOps.squeeze(this);
    }

    public Tensor squeeze(int dim) {
        return ViewOps.squeeze(this, dim);
    }

    public Tensor unsqueeze(int dim) {
        return ViewOps.unsqueeze(this, dim);
    }

    Tensor viewOf(int[] newShape, int[] newStrides, int newOffset) {
        return new Tensor(storage, newShape, newStrides, newOffset);
    }

    // ---------------------------------------------------------------- elementwise

    public Tensor neg() { return MathOps.unary(UnaryOp.NEG, this); }
    public Tensor exp() { return MathOps.unary(UnaryOp.EXP, this); }
    public Tensor log() { return MathOps.unary(UnaryOp.LOG, this); }
    public Tensor sqrt() { return MathOps.unary(UnaryOp.SQRT, this); }
    public Tensor tanh() { return MathOps.unary(UnaryOp.TANH, this); }
    public Tensor sigmoid() { return MathOps.unary(UnaryOp.SIGMOID, this); }
    public Tensor relu() { return MathOps.unary(UnaryOp.RELU, this); }
    public Tensor gelu() { return MathOps.unary(UnaryOp.GELU, this); }
    public Tensor abs() { return MathOps.unary(UnaryOp.ABS, this); }
    public Tensor square() { return MathOps.unary(UnaryOp.SQUARE, this); }
    public Tensor reciprocal() { return MathOps.unary(UnaryOp.RECIPROCAL, this); }
    public Tensor sign() { return MathOps.unary(UnaryOp.SIGN, this); }
    public Tensor pow(double p) { return MathOps.powScalar(this, p); }
    public Tensor pow(Tensor p) { return MathOps.binary(BinaryOp.POW, this, p); }

    public Tensor add(Tensor o) { return MathOps.binary(BinaryOp.ADD, this, o); }
    public Tensor sub(Tensor o) { return MathOps.binary(BinaryOp.SUB, this, o); }
    public Tensor mul(Tensor o) { return MathOps.binary(BinaryOp.MUL, this, o); }
    public Tensor div(Tensor o) { return MathOps.binary(BinaryOp.DIV, this, o); }
    public Tensor maximum(Tensor o) { return MathOps.binary(BinaryOp.MAX, this, o); }
    public Tensor minimum(Tensor o) { return MathOps.binary(BinaryOp.MIN, this, o); }
    public Tensor add(double s) { return add(Tensors.scalar(dtype(), s)); }
    public Tensor sub(double s) { return sub(Tensors.scalar(dtype(), s)); }
    public Tensor mul(double s) { return mul(Tensors.scalar(dtype(), s)); }
    public Tensor div(double s) { return div(Tensors.scalar(dtype(), s)); }

    public Tensor eq(Tensor o) { return MathOps.compare(CompareOp.EQ, this, o); }
    public Tensor ne(Tensor o) { return MathOps.compare(CompareOp.NE, this, o); }
    public Tensor lt(Tensor o) { return MathOps.compare(CompareOp.LT, this, o); }
    public Tensor le(Tensor o) { return MathOps.compare(CompareOp.LE, this, o); }
    public Tensor gt(Tensor o) { return MathOps.compare(CompareOp.GT, this, o); }
    public Tensor ge(Tensor o) { return MathOps.compare(CompareOp.GE, this, o); }
    public Tensor gt(double s) { return gt(Tensors.scalar(dtype(), s)); }
    public Tensor lt(double s) { return lt(Tensors.scalar(dtype(), s)); }
    public Tensor eq(double s) { return eq(Tensors.scalar(dtype(), s)); }

    /** Elementwise: this (a BOOL mask) ? a : b, broadcast. */
    public Tensor where(Tensor a, Tensor b) { return MathOps.where(this, a, b); }

    /** Clamps into [lo, hi]. */
    public Tensor clamp(double lo, double hi) { return MathOps.clamp(this, lo, hi); }

    // ---------------------------------------------------------------- reductions

    public Tensor sum() { return ReduceOps.sum(this, null, false); }
    public Tensor sum(int dim, boolean keepDim) { return ReduceOps.sum(this, new int[] {dim}, keepDim); }
    public Tensor sum(int[] dims, boolean keepDim) { return ReduceOps.sum(this, dims, keepDim); }
    public Tensor mean() { return ReduceOps.mean(this, null, false); }
    public Tensor mean(int dim, boolean keepDim) { return ReduceOps.mean(this, new int[] {dim}, keepDim); }
    public Tensor mean(int[] dims, boolean keepDim) { return ReduceOps.mean(this, dims, keepDim); }
    public Tensor max() { return ReduceOps.max(this, null, false); }
    public Tensor max(int dim, boolean keepDim) { return ReduceOps.max(this, new int[] {dim}, keepDim); }
    public Tensor min() { return ReduceOps.min(this, null, false); }
    public Tensor min(int dim, boolean keepDim) { return ReduceOps.min(this, new int[] {dim}, keepDim); }
    public Tensor argmax(int dim, boolean keepDim) { return ReduceOps.argmax(this, dim, keepDim); }
    public Tensor argmin(int dim, boolean keepDim) { return ReduceOps.argmin(this, dim, keepDim); }
    /** Variance over {@code dims}; {@code unbiased} divides by n-1 (PyTorch's default) else by n. */
    public Tensor var(int[] dims, boolean unbiased, boolean keepDim) { return ReduceOps.var(this, dims, unbiased, keepDim); }
    public Tensor var() { return ReduceOps.var(this, null, true, false); }

    // ---------------------------------------------------------------- linear algebra and nn

    /** Matrix product: 1-D/2-D as torch.matmul, and batched over leading dims with broadcasting. */
    public Tensor matmul(Tensor o) { return LinalgOps.matmul(this, o); }

    public Tensor softmax(int dim) { return Functional.softmax(this, dim); }
    public Tensor logSoftmax(int dim) { return Functional.logSoftmax(this, dim); }

    @Override
    public String toString() {
        return TensorFormat.format(this);
    }
}
