package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.cuda.CudaDevice;
import dev.kiln.kernels.cuda.CudaElementwise;
import dev.kiln.kernels.cuda.StridedArg;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA backend: device storage from the caching allocator, F32 compute in Kiln's own GPU
 * kernels, all work in order on the device's stream. Integer and BOOL tensors (labels, indices,
 * masks) live on the device too; conversions other than BOOL/I64 -> F32 and I32 -> I64 go through
 * the host. F64 is not supported on the GPU (gradient checks run on the CPU). A 0-dim CPU tensor
 * may be mixed with device tensors (as a Python scalar in PyTorch): it is written to the device
 * with an asynchronous memset. Elementwise work here; the rest in {@link CudaNn}.
 */
final class CudaBackend implements Backend {
    private static final ConcurrentHashMap<Integer, CudaBackend> BACKENDS = new ConcurrentHashMap<>();

    final Device device;
    final CudaDevice cuda;

    private CudaBackend(Device device, CudaDevice cuda) {
        this.device = device;
        this.cuda = cuda;
    }

    /** The backend of {@code d}; throws CudaUnavailableException (one sentence) when the GPU cannot be used. */
    static CudaBackend of(Device d) {
        CudaBackend b = BACKENDS.get(d.index());
        if (b == null) {
            b = BACKENDS.computeIfAbsent(d.index(), i -> new CudaBackend(d, CudaDevice.get(i)));
        }
        return b;
    }

    @Override
    public Device device() {
        return device;
    }

    static CudaStorage storage(Tensor t) {
        if (t.storage() instanceof CudaStorage s) {
            return s;
        }
        throw new IllegalStateException("CUDA backend: expected a tensor on cuda, got one on " + t.device());
    }

    /** Device address of the tensor's first element. */
    static long ptr(Tensor t) {
        return storage(t).address(t.offset());
    }

    static long base(Tensor t) {
        return storage(t).address();
    }

    /** A tensor of this device: itself, or a 0-dim (or one-element) CPU tensor copied here. */
    Tensor here(Tensor t) {
        if (t.storage() instanceof CudaStorage) {
            return t;
        }
        if (t.numel() == 1 && t.dtype() == DType.F32) {
            Tensor s = empty(DType.F32, t.shapeRef());
            cuda.fill(ptr(s), (float) t.item(), 1);
            return s;
        }
        return Backends.transfer(t, device);
    }

    static void requireF32(String op, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": the CUDA backend computes in F32 only, got " + t.dtype()
                    + " (use to(DType.F32), or the CPU for F64)");
        }
    }

    /** An uninitialized contiguous tensor. */
    Tensor empty(DType dtype, int[] shape) {
        if (dtype == DType.F64) {
            throw new IllegalArgumentException("CUDA backend: F64 tensors are not supported on the GPU (shape "
                    + Shape.str(shape) + "); use F32, or the CPU for F64");
        }
        return Tensor.of(CudaStorage.allocate(cuda, device, dtype, Shape.numel(shape)), shape);
    }

    @Override
    public Tensor zeros(DType dtype, int[] shape) {
        Tensor t = empty(dtype, shape);
        cuda.zero(ptr(t), (long) t.numel() * dtype.byteSize());
        return t;
    }

    @Override
    public Tensor fromArray(DType dtype, int[] shape, Object data) {
        return Backends.transfer(CpuBackend.INSTANCE.fromArray(dtype, shape, data), device);
    }

    /** The tensor itself if it is contiguous from offset 0 over its whole storage, else a dense copy. */
    Tensor dense(Tensor t) {
        t = here(t);
        if (t.isContiguous() && t.offset() == 0) {
            return t;
        }
        return contiguous(t);
    }

    /** The tensor itself when contiguous (any offset), else a dense copy. */
    Tensor packed(Tensor t) {
        t = here(t);
        return t.isContiguous() ? t : contiguous(t);
    }

    @Override
    public Tensor contiguous(Tensor x) {
        x = here(x);
        Tensor out = empty(x.dtype(), x.shapeRef());
        if (x.isContiguous()) {
            cuda.copyOnDevice(ptr(out), ptr(x), (long) x.numel() * x.dtype().byteSize());
        } else {
            copySameType(out, x);
        }
        return out;
    }

    private void copySameType(Tensor dst, Tensor src) {
        int[] shape = dst.shapeRef();
        int[] f = StridedArg.of(shape, new int[][] {dst.stridesRef(), Strided.broadcastStrides(src, shape)},
                new int[] {dst.offset(), src.offset()});
        CudaElementwise.copy(cuda, dst.dtype().byteSize(), base(dst), base(src), f, dst.numel());
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        src = here(src);
        if (dst.dtype() == src.dtype()) {
            copySameType(dst, src);
            return;
        }
        String kind = dst.dtype() == DType.F32 && src.dtype() == DType.I64 ? "i64_to_f32"
                : dst.dtype() == DType.F32 && src.dtype() == DType.BOOL ? "u8_to_f32"
                : dst.dtype() == DType.I64 && src.dtype() == DType.I32 ? "i32_to_i64" : null;
        if (kind != null && dst.isContiguous() && java.util.Arrays.equals(dst.shapeRef(), src.shapeRef())) {
            Tensor s = packed(src);
            CudaElementwise.convert(cuda, kind, ptr(dst), ptr(s), dst.numel());
            return;
        }
        // other conversions: on the host, then back
        Tensor host = CpuBackend.INSTANCE.zeros(dst.dtype(), src.shapeRef());
        CpuBackend.INSTANCE.copy(host, Backends.transfer(src, Device.CPU));
        copySameType(dst, Backends.transfer(host, device));
    }

    @Override
    public void fill(Tensor dst, double v) {
        if (dst.dtype() == DType.F32) {
            if (dst.isContiguous()) {
                cuda.fill(ptr(dst), (float) v, dst.numel());
            } else {
                int[] f = StridedArg.of(dst.shapeRef(), new int[][] {dst.stridesRef()}, new int[] {dst.offset()});
                CudaElementwise.fill(cuda, base(dst), (float) v, f, dst.numel());
            }
            return;
        }
        if (v == 0 && dst.isContiguous()) {
            cuda.zero(ptr(dst), (long) dst.numel() * dst.dtype().byteSize());
            return;
        }
        Tensor host = CpuBackend.INSTANCE.zeros(dst.dtype(), dst.shapeRef());
        CpuBackend.INSTANCE.fill(host, v);
        copySameType(dst, Backends.transfer(host, device));
    }

    @Override
    public void binaryInPlace(BinaryOp op, Tensor dst, Tensor src) {
        requireF32(MathOps.name(op), dst);
        src = here(src.to(dst.dtype()));
        int[] shape = dst.shapeRef();
        int[] f = StridedArg.of(shape, new int[][] {dst.stridesRef(), dst.stridesRef(), Strided.broadcastStrides(src, shape)},
                new int[] {dst.offset(), dst.offset(), src.offset()});
        CudaElementwise.binary(cuda, op, base(dst), base(dst), base(src), f, dst.numel());
    }

    @Override
    public void axpy(Tensor dst, double alpha, Tensor src) {
        requireF32("axpy", dst);
        src = here(src);
        if (dst.isContiguous() && src.isContiguous() && java.util.Arrays.equals(dst.shapeRef(), src.shapeRef())) {
            CudaElementwise.axpy(cuda, ptr(dst), (float) alpha, ptr(src), dst.numel());
            return;
        }
        binaryInPlace(BinaryOp.ADD, dst, binary(BinaryOp.MUL, src, Tensors.scalar(src.dtype(), alpha)));
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        requireF32(MathOps.name(op), x);
        Tensor in = packed(x);
        Tensor out = empty(DType.F32, x.shapeRef());
        CudaElementwise.unary(cuda, op, ptr(out), ptr(in), out.numel());
        return out;
    }

    @Override
    public Tensor powScalar(Tensor x, double p) {
        requireF32("pow", x);
        Tensor in = packed(x);
        Tensor out = empty(DType.F32, x.shapeRef());
        CudaElementwise.powScalar(cuda, ptr(out), ptr(in), (float) p, out.numel());
        return out;
    }

    private int[] strides3(Tensor out, Tensor a, Tensor b) {
        int[] shape = out.shapeRef();
        return StridedArg.of(shape, new int[][] {out.stridesRef(), Strided.broadcastStrides(a, shape), Strided.broadcastStrides(b, shape)},
                new int[] {0, a.offset(), b.offset()});
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String n = MathOps.name(op);
        a = here(a);
        b = here(b);
        requireF32(n, a);
        requireF32(n, b);
        Tensor out = empty(DType.F32, Shape.broadcast(n, a.shapeRef(), b.shapeRef()));
        CudaElementwise.binary(cuda, op, base(out), base(a), base(b), strides3(out, a, b), out.numel());
        return out;
    }

    @Override
    public Tensor compare(CompareOp op, Tensor a, Tensor b) {
        String n = MathOps.name(op);
        a = here(a);
        b = here(b);
        if (a.dtype() != DType.F32) {
            a = a.to(DType.F32);
        }
        if (b.dtype() != DType.F32) {
            b = here(b.to(DType.F32));
        }
        Tensor out = empty(DType.BOOL, Shape.broadcast(n, a.shapeRef(), b.shapeRef()));
        CudaElementwise.compare(cuda, op, base(out), base(a), base(b), strides3(out, a, b), out.numel());
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        cond = here(cond);
        a = here(a);
        b = here(b);
        requireF32("where", a);
        int[] shape = Shape.broadcast("where", Shape.broadcast("where", cond.shapeRef(), a.shapeRef()), b.shapeRef());
        Tensor out = empty(DType.F32, shape);
        int[] f = StridedArg.of(shape, new int[][] {out.stridesRef(), Strided.broadcastStrides(cond, shape),
                Strided.broadcastStrides(a, shape), Strided.broadcastStrides(b, shape)}, new int[] {0, cond.offset(), a.offset(), b.offset()});
        CudaElementwise.where(cuda, base(out), base(cond), base(a), base(b), f, out.numel());
        return out;
    }

    @Override
    public Tensor reduce(Reduction r, Tensor x, int dim) {
        return CudaNn.reduce(this, r, x, dim);
    }

    @Override
    public Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        return CudaNn.matmul(this, a, transA, b, transB);
    }

    @Override
    public Tensor matmulBias(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean relu) {
        Tensor y = CudaNn.matmulBias(this, a, transA, b, transB, bias);
        return relu ? unary(UnaryOp.RELU, y) : y;
    }

    @Override
    public Tensor softmax(Tensor x, int dim, boolean log) {
        return CudaNn.softmax(this, x, dim, log);
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor gy, int dim, boolean log) {
        return CudaNn.softmaxBackward(this, y, gy, dim, log);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeom g) {
        return CudaConvOps.conv2d(this, x, w, bias, g);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor gy, Tensor w, ConvGeom g) {
        return CudaConvOps.backwardInput(this, gy, w, g);
    }

    @Override
    public Tensor[] conv2dBackwardWeight(Tensor x, Tensor gy, ConvGeom g, boolean withBias) {
        return CudaConvOps.backwardWeight(this, x, gy, g, withBias);
    }

    @Override
    public Tensor[] maxPool2d(Tensor x, PoolGeom g) {
        return CudaConvOps.maxPool2d(this, x, g);
    }

    @Override
    public Tensor maxPool2dBackward(Tensor gy, Tensor argmax, int[] inputShape) {
        return CudaConvOps.maxPool2dBackward(this, gy, argmax, inputShape);
    }

    @Override
    public Tensor avgPool2d(Tensor x, PoolGeom g, boolean countIncludePad) {
        return CudaConvOps.avgPool2d(this, x, g, countIncludePad);
    }

    @Override
    public Tensor avgPool2dBackward(Tensor gy, int[] inputShape, PoolGeom g, boolean countIncludePad) {
        return CudaConvOps.avgPool2dBackward(this, gy, inputShape, g, countIncludePad);
    }

    @Override
    public Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        return CudaConvOps.adaptiveAvgPool2d(this, x, oh, ow);
    }

    @Override
    public Tensor adaptiveAvgPool2dBackward(Tensor gy, int[] inputShape) {
        return CudaConvOps.adaptiveAvgPool2dBackward(this, gy, inputShape);
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        return CudaNn.indexSelect(this, x, dim, index);
    }

    @Override
    public Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return CudaNn.indexAdd(this, shape, dim, index, src);
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        return CudaNn.gather(this, x, dim, index);
    }

    @Override
    public Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return CudaNn.scatterAdd(this, shape, dim, index, src);
    }

    // ------------------------------------------------------------------ host <-> device

    /** A dense copy of a CPU tensor on this device. */
    Tensor upload(Tensor cpu) {
        Tensor c = CpuBackend.dense(cpu);
        Tensor out = empty(c.dtype(), c.shapeRef());
        cuda.copyToDevice(ptr(out), heapSegment((HeapStorage) c.storage()), (long) c.numel() * c.dtype().byteSize());
        return out;
    }

    /** A dense CPU copy of a tensor of this device. */
    Tensor download(Tensor t) {
        Tensor c = packed(t);
        HeapStorage h = HeapStorage.allocate(c.dtype(), c.numel());
        cuda.copyToHost(heapSegment(h), ptr(c), (long) c.numel() * c.dtype().byteSize());
        return Tensor.of(h, c.shapeRef());
    }

    private static MemorySegment heapSegment(HeapStorage h) {
        return switch (h.array()) {
            case float[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            case byte[] a -> MemorySegment.ofArray(a);
            default -> throw new IllegalStateException("unexpected heap storage " + h.array().getClass());
        };
    }
}
