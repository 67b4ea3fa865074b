package dev.kiln.engine;

import dev.kiln.kernels.cuda.CudaBlas;
import dev.kiln.kernels.cuda.CudaElementwise;
import dev.kiln.kernels.cuda.CudaUpdate;
import java.util.Locale;

/** Reductions, matrix products, softmax and index ops of the CUDA backend. */
final class CudaNn {
    /**
     * Precision of matrix products on the GPU: {@code fp32} (default, CUDA cores), {@code tf32} or
     * {@code bf16} (tensor cores, fp32 accumulation), from the system property {@code kiln.cuda.matmul}
     * (as PyTorch's {@code torch.backends.cuda.matmul.allow_tf32}).
     */
    static final CudaBlas.Precision MATMUL = switch (System.getProperty("kiln.cuda.matmul", "fp32").toLowerCase(Locale.ROOT)) {
        case "tf32" -> CudaBlas.Precision.TF32;
        case "bf16" -> CudaBlas.Precision.BF16;
        case "fp32" -> CudaBlas.Precision.FP32;
        default -> throw new IllegalArgumentException("kiln.cuda.matmul: expected fp32, tf32 or bf16, got "
                + System.getProperty("kiln.cuda.matmul"));
    };

    private CudaNn() {
    }

    static Tensor reduce(CudaBackend be, Backend.Reduction r, Tensor x, int dim) {
        CudaBackend.requireF32(r.name().toLowerCase(Locale.ROOT), x);
        Tensor c = be.packed(x);
        ReduceGeometry g = ReduceGeometry.of(r, c.shapeRef(), dim);
        if (g.n() == 0) {
            return be.zeros(c.dtype(), g.outShape());
        }
        boolean arg = g.arg();
        Tensor out = be.empty(arg ? DType.I64 : DType.F32, g.outShape());
        long o = CudaBackend.ptr(out);
        CudaElementwise.reduce(be.cuda, r.ordinal(), arg ? 0 : o, arg ? o : 0, CudaBackend.ptr(c), g.outer(), g.n(),
                g.inner());
        return out;
    }

    /** A GEMM operand: pointer, leading dim, batch stride and whether the kernel reads it transposed. */
    private record Operand(Tensor t, long ptr, int ld, long batchStride, boolean trans) {
        static Operand of(CudaBackend be, Tensor x, boolean trans) {
            x = be.here(x);
            int[] st = x.stridesRef();
            int[] sh = x.shapeRef();
            long bs = sh[0] == 1 ? 0 : st[0];
            if (st[2] == 1 && (sh[1] == 1 || st[1] >= Math.max(1, sh[2]))) {
                return new Operand(x, CudaBackend.ptr(x), Math.max(st[1], Math.max(1, sh[2])), bs, trans);
            }
            if (st[1] == 1 && (sh[2] == 1 || st[2] >= Math.max(1, sh[1]))) {
                return new Operand(x, CudaBackend.ptr(x), Math.max(st[2], Math.max(1, sh[1])), bs, !trans);
            }
            Tensor c = be.contiguous(x);
            return new Operand(c, CudaBackend.ptr(c), Math.max(1, sh[2]), sh[0] == 1 ? 0 : (long) sh[1] * sh[2], trans);
        }
    }

    static Tensor matmul(CudaBackend be, Tensor a, boolean transA, Tensor b, boolean transB) {
        return product(be, a, transA, b, transB, null);
    }

    /** op(a) op(b) + bias for 2-D a, b and bias [n] (added to every row in the GEMM's store). */
    static Tensor matmulBias(CudaBackend be, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        Tensor p = product(be, a.unsqueeze(0), transA, b.unsqueeze(0), transB, be.packed(bias));
        return p.reshape(p.size(1), p.size(2));
    }

    private static Tensor product(CudaBackend be, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        CudaBackend.requireF32("matmul", a);
        CudaBackend.requireF32("matmul", b);
        int[] as = a.shapeRef();
        int[] bs = b.shapeRef();
        int m = transA ? as[2] : as[1];
        int k = transA ? as[1] : as[2];
        int n = transB ? bs[1] : bs[2];
        int batch = Math.max(as[0], bs[0]);
        if (k == 0) {
            Tensor z = be.zeros(DType.F32, new int[] {batch, m, n});
            return bias == null ? z : be.binary(dev.kiln.kernels.BinaryOp.ADD, z, bias);
        }
        Tensor out = be.empty(DType.F32, new int[] {batch, m, n});
        if (m == 0 || n == 0) {
            return out;
        }
        Operand pa = Operand.of(be, a, transA);
        Operand pb = Operand.of(be, b, transB);
        CudaBlas.gemm(be.cuda, MATMUL, CudaBackend.ptr(out), pa.ptr(), pb.ptr(), bias == null ? 0 : CudaBackend.ptr(bias),
                bias == null ? CudaBlas.Bias.NONE : CudaBlas.Bias.PER_COLUMN, false,
                new CudaBlas.GemmShape(m, n, k, pa.trans(), pb.trans(), pa.ld(), pb.ld(), n, batch, pa.batchStride(),
                        pb.batchStride(), (long) m * n));
        return out;
    }

    static Tensor softmax(CudaBackend be, Tensor x, int dim, boolean log) {
        CudaBackend.requireF32(log ? "logSoftmax" : "softmax", x);
        Tensor c = be.packed(x);
        int[] s = c.shapeRef();
        Tensor y = be.empty(DType.F32, s);
        CudaElementwise.softmax(be.cuda, CudaBackend.ptr(y), CudaBackend.ptr(c), Shape.prod(s, 0, dim), s[dim],
                Shape.prod(s, dim + 1, s.length), log);
        return y;
    }

    static Tensor softmaxBackward(CudaBackend be, Tensor y, Tensor gy, int dim, boolean log) {
        Tensor yc = be.packed(y);
        Tensor gc = be.packed(gy);
        int[] s = yc.shapeRef();
        Tensor gx = be.empty(DType.F32, s);
        CudaElementwise.softmaxBackward(be.cuda, CudaBackend.ptr(gx), CudaBackend.ptr(yc), CudaBackend.ptr(gc),
                Shape.prod(s, 0, dim), s[dim], Shape.prod(s, dim + 1, s.length), log);
        return gx;
    }

    /**
     * The index as dense I64 on the device, after checking on the host that every value lies in
     * [0, n) (indices come from the host, e.g. labels; out-of-range values would read other memory).
     */
    static Tensor indices(CudaBackend be, String op, Tensor index, int n) {
        Tensor host = index.device().type() == Device.Type.CPU ? index : be.download(index);
        long[] v = host.toLongArray();
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] >= n) {
                throw new IndexOutOfBoundsException(op + ": index " + v[i] + " at position " + i + " is out of range [0, " + n + ")");
            }
        }
        if (index.device().equals(be.device) && index.dtype() == DType.I64) {
            return be.packed(index);
        }
        return be.upload(Tensors.of(v, index.shapeRef()));
    }

    /**
     * Fused per-row cross-entropy of F32 logits x [M, C] and class indices [M] (checked on the host):
     * forward keeps logsumexp per row, backward is (softmax - onehot) * g in one kernel.
     */
    static Tensor crossEntropyRows(CudaBackend be, Tensor x, Tensor index) {
        String op = "crossEntropyRows";
        int rows = x.size(0);
        int c = x.size(1);
        Tensor xd = be.packed(x.detach());
        Tensor labels = indices(be, op, index, c);
        Tensor loss = be.empty(DType.F32, new int[] {rows});
        Tensor lse = be.empty(DType.F32, new int[] {rows});
        CudaElementwise.crossEntropy(be.cuda, CudaBackend.ptr(loss), CudaBackend.ptr(lse), CudaBackend.ptr(xd),
                CudaBackend.ptr(labels), rows, c);
        return Autograd.record(op, loss, g -> {
            Tensor gd = be.packed(g);
            Tensor gx = be.empty(DType.F32, new int[] {rows, c});
            CudaElementwise.crossEntropyBackward(be.cuda, CudaBackend.ptr(gx), CudaBackend.ptr(xd), CudaBackend.ptr(lse),
                    CudaBackend.ptr(labels), CudaBackend.ptr(gd), rows, c);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor indexSelect(CudaBackend be, Tensor x, int dim, Tensor index) {
        CudaBackend.requireF32("indexSelect", x);
        Tensor c = be.packed(x);
        int[] shape = c.shapeRef();
        int n = shape[dim];
        Tensor idx = indices(be, "indexSelect", index, n);
        int[] outShape = shape.clone();
        outShape[dim] = idx.numel();
        Tensor out = be.empty(DType.F32, outShape);
        CudaUpdate.indexSelect(be.cuda, CudaBackend.ptr(out), CudaBackend.ptr(c), CudaBackend.ptr(idx), Shape.prod(shape, 0, dim), n,
                idx.numel(), Shape.prod(shape, dim + 1, shape.length));
        return out;
    }

    static Tensor indexAdd(CudaBackend be, int[] shape, int dim, Tensor index, Tensor src) {
        CudaBackend.requireF32("indexAdd", src);
        Tensor s = be.packed(src);
        Tensor idx = indices(be, "indexAdd", index, shape[dim]);
        Tensor out = be.zeros(DType.F32, shape);
        CudaUpdate.indexAdd(be.cuda, CudaBackend.ptr(out), CudaBackend.ptr(s), CudaBackend.ptr(idx), Shape.prod(shape, 0, dim),
                shape[dim], idx.numel(), Shape.prod(shape, dim + 1, shape.length));
        return out;
    }

    static Tensor gather(CudaBackend be, Tensor x, int dim, Tensor index) {
        CudaBackend.requireF32("gather", x);
        Tensor c = be.packed(x);
        int[] is = index.shapeRef();
        Tensor idx = indices(be, "gather", index, c.shapeRef()[dim]);
        Tensor out = be.empty(DType.F32, is);
        CudaUpdate.gather(be.cuda, CudaBackend.ptr(out), CudaBackend.ptr(c), CudaBackend.ptr(idx), Shape.prod(is, 0, dim),
                c.shapeRef()[dim], is[dim], Shape.prod(is, dim + 1, is.length));
        return out;
    }

    static Tensor scatterAdd(CudaBackend be, int[] shape, int dim, Tensor index, Tensor src) {
        CudaBackend.requireF32("scatterAdd", src);
        Tensor s = be.packed(src);
        int[] is = index.shapeRef();
        Tensor idx = indices(be, "scatterAdd", index, shape[dim]);
        Tensor out = be.zeros(DType.F32, shape);
        CudaUpdate.scatterAdd(be.cuda, CudaBackend.ptr(out), CudaBackend.ptr(s), CudaBackend.ptr(idx), Shape.prod(is, 0, dim),
                shape[dim], is[dim], Shape.prod(is, dim + 1, is.length));
        return out;
    }
}
