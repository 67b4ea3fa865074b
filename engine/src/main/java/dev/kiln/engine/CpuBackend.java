package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.cpu.Elementwise;
import dev.kiln.kernels.ref.RefElementwise;
import java.util.Arrays;

/**
 * The CPU backend: heap arrays, fp32 through the Vector API kernels, F64 through the double
 * reference kernels (used by gradient checks). Elementwise work here; the rest in {@link CpuNn}
 * and {@link CpuIndex}.
 */
final class CpuBackend implements Backend {
    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    static HeapStorage heap(Tensor t) {
        return (HeapStorage) t.storage();
    }

    static float[] f32(Tensor t) {
        return heap(t).f32();
    }

    static double[] f64(Tensor t) {
        return heap(t).f64();
    }

    static byte[] bytes(Tensor t) {
        return heap(t).bytes();
    }

    @Override
    public Tensor zeros(DType dtype, int[] shape) {
        return Tensor.of(HeapStorage.allocate(dtype, Shape.numel(shape)), shape);
    }

    @Override
    public Tensor fromArray(DType dtype, int[] shape, Object data) {
        HeapStorage src = HeapStorage.wrap(dtype, data);
        int n = Shape.numel(shape);
        if (src.length() != n) {
            throw new IllegalArgumentException("fromArray: shape " + Shape.str(shape) + " needs " + n + " values, got " + src.length());
        }
        Object copy = switch (dtype) {
            case F32 -> src.f32().clone();
            case F64 -> src.f64().clone();
            case I32 -> src.i32().clone();
            case I64 -> src.i64().clone();
            case I8, BOOL -> src.bytes().clone();
        };
        return Tensor.of(HeapStorage.wrap(dtype, copy), shape);
    }

    /** The tensor itself if it is contiguous from offset 0 over its whole storage, else a dense copy. */
    static Tensor dense(Tensor t) {
        if (t.isContiguous() && t.offset() == 0 && t.storage().length() == t.numel()) {
            return t;
        }
        return INSTANCE.contiguous(t);
    }

    /**
     * A dense copy. A contiguous source is copied with {@code Arrays.copyOfRange}, which the JVM
     * fills in one pass without zeroing the new array first (a Linear layer's weight gradient is
     * copied this way on every step).
     */
    @Override
    public Tensor contiguous(Tensor x) {
        if (x.isContiguous()) {
            int from = x.offset();
            int to = from + x.numel();
            Object copy = switch (heap(x).array()) {
                case float[] a -> Arrays.copyOfRange(a, from, to);
                case double[] a -> Arrays.copyOfRange(a, from, to);
                case int[] a -> Arrays.copyOfRange(a, from, to);
                case long[] a -> Arrays.copyOfRange(a, from, to);
                case byte[] a -> Arrays.copyOfRange(a, from, to);
                default -> throw new IllegalStateException("contiguous: unexpected storage " + heap(x).array().getClass());
            };
            return Tensor.of(HeapStorage.wrap(x.dtype(), copy), x.shapeRef());
        }
        Tensor out = zeros(x.dtype(), x.shapeRef());
        copy(out, x);
        return out;
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        int[] shape = dst.shapeRef();
        Strided plan = Strided.plan(shape, new int[][] {dst.stridesRef(), Strided.broadcastStrides(src, shape)},
                new int[] {dst.offset(), src.offset()});
        HeapStorage d = heap(dst);
        HeapStorage s = heap(src);
        int ds = plan.innerStride(0);
        int ss = plan.innerStride(1);
        if (d.dtype() != s.dtype()) {
            plan.forEach((o, n) -> {
                for (int i = 0; i < n; i++) {
                    d.set(o[0] + i * ds, s.get(o[1] + i * ss));
                }
            });
            return;
        }
        Object da = d.array();
        Object sa = s.array();
        plan.forEach((o, n) -> {
            if (ds == 1 && ss == 1) {
                System.arraycopy(sa, o[1], da, o[0], n);
                return;
            }
            switch (d.dtype()) {
                case F32 -> {
                    float[] a = (float[]) da;
                    float[] b = (float[]) sa;
                    for (int i = 0; i < n; i++) {
                        a[o[0] + i * ds] = b[o[1] + i * ss];
                    }
                }
                case F64 -> {
                    double[] a = (double[]) da;
                    double[] b = (double[]) sa;
                    for (int i = 0; i < n; i++) {
                        a[o[0] + i * ds] = b[o[1] + i * ss];
                    }
                }
                default -> {
                    for (int i = 0; i < n; i++) {
                        d.set(o[0] + i * ds, s.get(o[1] + i * ss));
                    }
                }
            }
        });
    }

    @Override
    public void fill(Tensor dst, double v) {
        Strided plan = Strided.plan(dst.shapeRef(), new int[][] {dst.stridesRef()}, new int[] {dst.offset()});
        HeapStorage d = heap(dst);
        int ds = plan.innerStride(0);
        plan.forEach((o, n) -> {
            switch (d.dtype()) {
                case F32 -> {
                    if (ds == 1) {
                        Elementwise.fill(d.f32(), o[0], (float) v, n);
                    } else {
                        for (int i = 0; i < n; i++) {
                            d.f32()[o[0] + i * ds] = (float) v;
                        }
                    }
                }
                default -> {
                    for (int i = 0; i < n; i++) {
                        d.set(o[0] + i * ds, v);
                    }
                }
            }
        });
    }

    @Override
    public void binaryInPlace(BinaryOp op, Tensor dst, Tensor src) {
        int[] shape = dst.shapeRef();
        int[] sst = Strided.broadcastStrides(src, shape);
        Strided plan = Strided.plan(shape, new int[][] {dst.stridesRef(), sst}, new int[] {dst.offset(), src.offset()});
        int s1 = plan.innerStride(1);
        if (plan.innerStride(0) != 1 || (s1 != 0 && s1 != 1) || src.dtype() != dst.dtype()) {
            copy(dst, binary(op, dst, src.to(dst.dtype())));
            return;
        }
        if (dst.dtype() == DType.F32) {
            float[] d = f32(dst);
            float[] s = f32(src);
            plan.forEach((o, n) -> Elementwise.binary(op, d, o[0], d, o[0], 1, s, o[1], s1, n));
        } else {
            double[] d = f64(dst);
            double[] s = f64(src);
            plan.forEach((o, n) -> RefElementwise.binary(op, d, o[0], d, o[0], 1, s, o[1], s1, n));
        }
    }

    @Override
    public void axpy(Tensor dst, double alpha, Tensor src) {
        Tensor s = src.to(dst.dtype());
        if (dst.dtype() == DType.F32 && dst.isContiguous() && s.isContiguous()
                && java.util.Arrays.equals(dst.shapeRef(), s.shapeRef())) {
            Elementwise.axpy(f32(dst), dst.offset(), (float) alpha, f32(s), s.offset(), dst.numel());
            return;
        }
        binaryInPlace(BinaryOp.ADD, dst, binary(BinaryOp.MUL, s, Tensors.scalar(s.dtype(), alpha)));
    }

    /** A plan where every input has an inner stride of 0 or 1 (others are made contiguous first). */
    private static Strided planElementwise(Tensor out, Tensor[] ins) {
        int[] shape = out.shapeRef();
        for (int attempt = 0; ; attempt++) {
            int[][] st = new int[ins.length + 1][];
            int[] offs = new int[ins.length + 1];
            st[0] = out.stridesRef();
            for (int k = 0; k < ins.length; k++) {
                st[k + 1] = Strided.broadcastStrides(ins[k], shape);
                offs[k + 1] = ins[k].offset();
            }
            Strided plan = Strided.plan(shape, st, offs);
            boolean ok = true;
            for (int k = 0; k < ins.length; k++) {
                int s = plan.innerStride(k + 1);
                if (s != 0 && s != 1) {
                    ins[k] = INSTANCE.contiguous(ins[k]);
                    ok = false;
                }
            }
            if (ok || attempt > 0) {
                return plan;
            }
        }
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = zeros(x.dtype(), x.shapeRef());
        Tensor[] ins = {x.isContiguous() ? x : contiguous(x)};
        Strided plan = planElementwise(out, ins);
        if (x.dtype() == DType.F32) {
            float[] o = f32(out);
            float[] a = f32(ins[0]);
            plan.forEach((off, n) -> Elementwise.unary(op, o, off[0], a, off[1], n));
        } else {
            double[] o = f64(out);
            double[] a = f64(ins[0]);
            plan.forEach((off, n) -> RefElementwise.unary(op, o, off[0], a, off[1], n));
        }
        return out;
    }

    @Override
    public Tensor powScalar(Tensor x, double p) {
        Tensor out = zeros(x.dtype(), x.shapeRef());
        Tensor[] ins = {x.isContiguous() ? x : contiguous(x)};
        Strided plan = planElementwise(out, ins);
        if (x.dtype() == DType.F32) {
            float[] o = f32(out);
            float[] a = f32(ins[0]);
            plan.forEach((off, n) -> Elementwise.powScalar(o, off[0], a, off[1], (float) p, n));
        } else {
            double[] o = f64(out);
            double[] a = f64(ins[0]);
            plan.forEach((off, n) -> RefElementwise.powScalar(o, off[0], a, off[1], p, n));
        }
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = zeros(a.dtype(), Shape.broadcast(op.name().toLowerCase(java.util.Locale.ROOT), a.shapeRef(), b.shapeRef()));
        Tensor[] ins = {a, b};
        Strided plan = planElementwise(out, ins);
        int sa = plan.innerStride(1);
        int sb = plan.innerStride(2);
        if (a.dtype() == DType.F32) {
            float[] o = f32(out);
            float[] x = f32(ins[0]);
            float[] y = f32(ins[1]);
            plan.forEach((off, n) -> Elementwise.binary(op, o, off[0], x, off[1], sa, y, off[2], sb, n));
        } else {
            double[] o = f64(out);
            double[] x = f64(ins[0]);
            double[] y = f64(ins[1]);
            plan.forEach((off, n) -> RefElementwise.binary(op, o, off[0], x, off[1], sa, y, off[2], sb, n));
        }
        return out;
    }

    @Override
    public Tensor compare(CompareOp op, Tensor a, Tensor b) {
        if (!a.dtype().isFloating()) {
            a = a.to(DType.F64);
            b = b.to(DType.F64);
        }
        Tensor out = zeros(DType.BOOL, Shape.broadcast(op.name().toLowerCase(java.util.Locale.ROOT), a.shapeRef(), b.shapeRef()));
        Tensor[] ins = {a, b};
        Strided plan = planElementwise(out, ins);
        int sa = plan.innerStride(1);
        int sb = plan.innerStride(2);
        byte[] o = bytes(out);
        if (a.dtype() == DType.F32) {
            float[] x = f32(ins[0]);
            float[] y = f32(ins[1]);
            plan.forEach((off, n) -> Elementwise.compare(op, o, off[0], x, off[1], sa, y, off[2], sb, n));
        } else {
            double[] x = f64(ins[0]);
            double[] y = f64(ins[1]);
            plan.forEach((off, n) -> RefElementwise.compare(op, o, off[0], x, off[1], sa, y, off[2], sb, n));
        }
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        int[] shape = Shape.broadcast("where", Shape.broadcast("where", cond.shapeRef(), a.shapeRef()), b.shapeRef());
        Tensor out = zeros(a.dtype(), shape);
        Tensor[] ins = {cond, a, b};
        Strided plan = planElementwise(out, ins);
        int sc = plan.innerStride(1);
        int sa = plan.innerStride(2);
        int sb = plan.innerStride(3);
        byte[] c = bytes(ins[0]);
        if (a.dtype() == DType.F32) {
            float[] o = f32(out);
            float[] x = f32(ins[1]);
            float[] y = f32(ins[2]);
            plan.forEach((off, n) -> Elementwise.where(o, off[0], c, off[1], sc, x, off[2], sa, y, off[3], sb, n));
        } else {
            double[] o = f64(out);
            double[] x = f64(ins[1]);
            double[] y = f64(ins[2]);
            plan.forEach((off, n) -> RefElementwise.where(o, off[0], c, off[1], sc, x, off[2], sa, y, off[3], sb, n));
        }
        return out;
    }

    @Override
    public Tensor reduce(Reduction r, Tensor x, int dim) {
        return CpuNn.reduce(r, x, dim);
    }

    @Override
    public Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        return CpuNn.matmul(a, transA, b, transB);
    }

    @Override
    public Tensor matmulBias(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean relu) {
        return a.dtype() == DType.F32 ? CpuNn.matmulBias(a, transA, b, transB, bias, relu)
                : Backend.super.matmulBias(a, transA, b, transB, bias, relu);
    }

    @Override
    public boolean matmulAccumulate(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB) {
        return CpuNn.matmulAccumulate(c, a, transA, b, transB);
    }

    @Override
    public Tensor reluOwned(Tensor y) {
        if (y.dtype() != DType.F32 || !y.isContiguous()) {
            return unary(UnaryOp.RELU, y);
        }
        float[] a = f32(y);
        Elementwise.unary(UnaryOp.RELU, a, y.offset(), a, y.offset(), y.numel());
        return y;
    }

    @Override
    public Tensor reluBackward(Tensor y, Tensor gy) {
        return y.dtype() == DType.F32 ? CpuNn.reluBackward(y, gy) : Backend.super.reluBackward(y, gy);
    }

    @Override
    public Tensor softmax(Tensor x, int dim, boolean log) {
        return CpuNn.softmax(x, dim, log);
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor gy, int dim, boolean log) {
        return CpuNn.softmaxBackward(y, gy, dim, log);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeom g) {
        return CpuConv.conv2d(x, w, bias, g);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor gy, Tensor w, ConvGeom g) {
        return CpuConv.backwardInput(gy, w, g);
    }

    @Override
    public boolean conv2dBackwardInputAccumulate(Tensor gx, Tensor gy, Tensor w, ConvGeom g) {
        return CpuConv.backwardInputAccumulate(gx, gy, w, g);
    }

    @Override
    public Tensor[] conv2dBackwardWeight(Tensor x, Tensor gy, ConvGeom g, boolean withBias) {
        return CpuConv.backwardWeight(x, gy, g, withBias);
    }

    @Override
    public Tensor[] batchNorm(Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, double eps) {
        return CpuNorm.batchNorm(x, mean, var, weight, bias, eps, false);
    }

    @Override
    public Tensor[] batchNormRelu(Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, double eps) {
        return CpuNorm.batchNorm(x, mean, var, weight, bias, eps, true);
    }

    @Override
    public Tensor[] batchNormBackward(Tensor gy, Tensor x, Tensor mean, Tensor invstd, Tensor weight, boolean batchStats,
                                      boolean[] needs) {
        return CpuNorm.batchNormBackward(gy, x, mean, invstd, weight, batchStats, needs, null);
    }

    @Override
    public Tensor[] batchNormReluBackward(Tensor gy, Tensor y, Tensor x, Tensor mean, Tensor invstd, Tensor weight,
                                         boolean batchStats, boolean[] needs) {
        return CpuNorm.batchNormBackward(gy, x, mean, invstd, weight, batchStats, needs, y);
    }

    @Override
    public Tensor[] maxPool2d(Tensor x, PoolGeom g) {
        return CpuConv.maxPool2d(x, g);
    }

    @Override
    public Tensor maxPool2dBackward(Tensor gy, Tensor argmax, int[] inputShape) {
        return CpuConv.maxPool2dBackward(gy, argmax, inputShape);
    }

    @Override
    public Tensor avgPool2d(Tensor x, PoolGeom g, boolean countIncludePad) {
        return CpuConv.avgPool2d(x, g, countIncludePad);
    }

    @Override
    public Tensor avgPool2dBackward(Tensor gy, int[] inputShape, PoolGeom g, boolean countIncludePad) {
        return CpuConv.avgPool2dBackward(gy, inputShape, g, countIncludePad);
    }

    @Override
    public Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        return CpuConv.adaptiveAvgPool2d(x, oh, ow);
    }

    @Override
    public Tensor adaptiveAvgPool2dBackward(Tensor gy, int[] inputShape) {
        return CpuConv.adaptiveAvgPool2dBackward(gy, inputShape);
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        return CpuIndex.indexSelect(x, dim, index);
    }

    @Override
    public Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return CpuIndex.indexAdd(shape, dim, index, src);
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        return CpuIndex.gather(x, dim, index);
    }

    @Override
    public Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return CpuIndex.scatterAdd(shape, dim, index, src);
    }
}
