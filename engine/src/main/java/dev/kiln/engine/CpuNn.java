package dev.kiln.engine;

import dev.kiln.kernels.cpu.Gemm;
import dev.kiln.kernels.cpu.GemmEpilogue;
import dev.kiln.kernels.cpu.Reduce;
import dev.kiln.kernels.cpu.Softmax;
import dev.kiln.kernels.ref.RefGemm;
import dev.kiln.kernels.ref.RefReduce;
import dev.kiln.kernels.ref.RefSoftmax;

/** CPU reductions, matrix products and softmax: views in, kernel calls on [outer, n, inner] layouts. */
final class CpuNn {
    private CpuNn() {
    }

    private static Tensor contiguous(Tensor t) {
        return t.isContiguous() ? t : CpuBackend.INSTANCE.contiguous(t);
    }

    static Tensor reduce(Backend.Reduction r, Tensor x, int dim) {
        Tensor c = contiguous(x);
        ReduceGeometry g = ReduceGeometry.of(r, c.shapeRef(), dim);
        int outer = g.outer();
        int n = g.n();
        int inner = g.inner();
        Tensor out = CpuBackend.INSTANCE.zeros(g.arg() ? DType.I64 : c.dtype(), g.outShape());
        if (n == 0) {
            return out;
        }
        int xo = c.offset();
        if (c.dtype() == DType.F32) {
            float[] xs = CpuBackend.f32(c);
            switch (r) {
                case SUM -> Reduce.sum(CpuBackend.f32(out), 0, xs, xo, outer, n, inner);
                case MAX -> Reduce.max(CpuBackend.f32(out), 0, xs, xo, outer, n, inner);
                case MIN -> Reduce.min(CpuBackend.f32(out), 0, xs, xo, outer, n, inner);
                case ARGMAX -> Reduce.argmax(CpuBackend.heap(out).i64(), 0, xs, xo, outer, n, inner);
                case ARGMIN -> Reduce.argmin(CpuBackend.heap(out).i64(), 0, xs, xo, outer, n, inner);
            }
        } else {
            double[] xs = CpuBackend.f64(c);
            switch (r) {
                case SUM -> RefReduce.sum(CpuBackend.f64(out), 0, xs, xo, outer, n, inner);
                case MAX -> RefReduce.max(CpuBackend.f64(out), 0, xs, xo, outer, n, inner);
                case MIN -> RefReduce.min(CpuBackend.f64(out), 0, xs, xo, outer, n, inner);
                case ARGMAX -> RefReduce.argmax(CpuBackend.heap(out).i64(), 0, xs, xo, outer, n, inner);
                case ARGMIN -> RefReduce.argmin(CpuBackend.heap(out).i64(), 0, xs, xo, outer, n, inner);
            }
        }
        return out;
    }

    /** A matrix operand as the GEMM sees it: offset, leading dim, batch stride, transposed or not. */
    private record Operand(Tensor t, int off, int ld, long batchStride, boolean trans) {
        static Operand of(Tensor x, boolean trans) {
            int[] st = x.stridesRef();
            int[] sh = x.shapeRef();
            long bs = sh[0] == 1 ? 0 : st[0];
            if (st[2] == 1 && (sh[1] == 1 || st[1] >= Math.max(1, sh[2]))) {
                return new Operand(x, x.offset(), Math.max(st[1], Math.max(1, sh[2])), bs, trans);
            }
            if (st[1] == 1 && (sh[2] == 1 || st[2] >= Math.max(1, sh[1]))) {
                return new Operand(x, x.offset(), Math.max(st[2], Math.max(1, sh[1])), bs, !trans);
            }
            Tensor c = CpuBackend.INSTANCE.contiguous(x);
            return new Operand(c, 0, Math.max(1, sh[2]), sh[0] == 1 ? 0 : (long) sh[1] * sh[2], trans);
        }
    }

    static Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        int[] as = a.shapeRef();
        int[] bs = b.shapeRef();
        int m = transA ? as[2] : as[1];
        int k = transA ? as[1] : as[2];
        int n = transB ? bs[1] : bs[2];
        int batch = Math.max(as[0], bs[0]);
        Tensor out = CpuBackend.INSTANCE.zeros(a.dtype(), new int[] {batch, m, n});
        if (m == 0 || n == 0) {
            return out;
        }
        Operand pa = Operand.of(a, transA);
        Operand pb = Operand.of(b, transB);
        if (a.dtype() == DType.F32) {
            float[] c = CpuBackend.f32(out);
            float[] x = CpuBackend.f32(pa.t());
            float[] y = CpuBackend.f32(pb.t());
            if (batch == 1) {
                Gemm.sgemm(false, c, 0, n, pa.trans(), x, pa.off(), pa.ld(), pb.trans(), y, pb.off(), pb.ld(), m, n, k);
            } else {
                Gemm.sgemmBatched(false, c, 0, n, (long) m * n, pa.trans(), x, pa.off(), pa.ld(), pa.batchStride(),
                        pb.trans(), y, pb.off(), pb.ld(), pb.batchStride(), batch, m, n, k);
            }
        } else {
            double[] c = CpuBackend.f64(out);
            double[] x = CpuBackend.f64(pa.t());
            double[] y = CpuBackend.f64(pb.t());
            RefGemm.dgemmBatched(false, c, 0, n, (long) m * n, pa.trans(), x, pa.off(), pa.ld(), pa.batchStride(),
                    pb.trans(), y, pb.off(), pb.ld(), pb.batchStride(), batch, m, n, k);
        }
        return out;
    }

    /** See {@link Backend#matmulBias}: one fused GEMM (F32). */
    static Tensor matmulBias(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean relu) {
        int m = transA ? a.size(1) : a.size(0);
        int k = transA ? a.size(0) : a.size(1);
        int n = transB ? b.size(0) : b.size(1);
        Tensor out = CpuBackend.INSTANCE.zeros(a.dtype(), new int[] {m, n});
        Operand pa = Operand.of(a.unsqueeze(0), transA);
        Operand pb = Operand.of(b.unsqueeze(0), transB);
        Tensor bc = contiguous(bias);
        Gemm.sgemmBias(relu, CpuBackend.f32(out), 0, n, pa.trans(), CpuBackend.f32(pa.t()), pa.off(), pa.ld(),
                pb.trans(), CpuBackend.f32(pb.t()), pb.off(), pb.ld(), CpuBackend.f32(bc), bc.offset(), m, n, k);
        return out;
    }

    /**
     * See {@link Backend#matmulAccumulate}: F32 only, into a contiguous heap {@code c} that shares no array with
     * {@code a} or {@code b}. The GEMM adds its products to what {@code c} holds (per KC block of k: up to
     * {@code kiln.gemm.kc} = 1024 in one block, which gives the bits of computing the product and then adding it).
     */
    static boolean matmulAccumulate(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB) {
        if (c.dtype() != DType.F32 || a.dtype() != DType.F32 || b.dtype() != DType.F32 || c.rank() != 2 || a.rank() != 2
                || b.rank() != 2 || !c.isContiguous() || !(c.storage() instanceof HeapStorage hc)
                || !(a.storage() instanceof HeapStorage ha) || !(b.storage() instanceof HeapStorage hb)
                || hc.array() == ha.array() || hc.array() == hb.array()) {
            return false;
        }
        int m = transA ? a.size(1) : a.size(0);
        int k = transA ? a.size(0) : a.size(1);
        int n = transB ? b.size(0) : b.size(1);
        if ((transB ? b.size(1) : b.size(0)) != k || c.size(0) != m || c.size(1) != n) {
            throw new IllegalArgumentException("matmulAccumulate: expected c [" + m + ", " + n + "] for op(a) [" + m + ", " + k
                    + "] x op(b), got c " + Shape.str(c.shapeRef()) + ", a " + Shape.str(a.shapeRef()) + (transA ? "^T" : "") + ", b "
                    + Shape.str(b.shapeRef()) + (transB ? "^T" : ""));
        }
        if (m == 0 || n == 0 || k == 0) {
            return true;
        }
        Operand pa = Operand.of(a.unsqueeze(0), transA);
        Operand pb = Operand.of(b.unsqueeze(0), transB);
        Gemm.sgemm(true, hc.f32(), c.offset(), n, pa.trans(), CpuBackend.f32(pa.t()), pa.off(), pa.ld(),
                pb.trans(), CpuBackend.f32(pb.t()), pb.off(), pb.ld(), m, n, k);
        return true;
    }

    /** Column sums of a 2-D F32 tensor {@code [m, n] -> [n]}: the values of a SUM over dim 0 (a bias gradient). */
    static Tensor sumRows(Tensor g) {
        Tensor c = contiguous(g);
        int n = c.size(1);
        Tensor out = CpuBackend.INSTANCE.zeros(DType.F32, new int[] {n});
        GemmEpilogue.columnSums(CpuBackend.f32(out), 0, CpuBackend.f32(c), c.offset(), n, c.size(0), n);
        return out;
    }

    /** See {@link Backend#reluBackward} (F32). */
    static Tensor reluBackward(Tensor y, Tensor gy) {
        Tensor yc = contiguous(y);
        Tensor gc = contiguous(gy);
        Tensor gx = CpuBackend.INSTANCE.zeros(gc.dtype(), gc.shapeRef());
        GemmEpilogue.reluBackward(CpuBackend.f32(gx), 0, CpuBackend.f32(gc), gc.offset(), CpuBackend.f32(yc), yc.offset(),
                gx.numel());
        return gx;
    }

    static Tensor softmax(Tensor x, int dim, boolean log) {
        Tensor c = contiguous(x);
        int[] shape = c.shapeRef();
        int outer = Shape.prod(shape, 0, dim);
        int n = shape[dim];
        int inner = Shape.prod(shape, dim + 1, shape.length);
        Tensor out = CpuBackend.INSTANCE.zeros(c.dtype(), shape);
        if (c.dtype() == DType.F32) {
            if (log) {
                Softmax.logSoftmax(CpuBackend.f32(out), 0, CpuBackend.f32(c), c.offset(), outer, n, inner);
            } else {
                Softmax.softmax(CpuBackend.f32(out), 0, CpuBackend.f32(c), c.offset(), outer, n, inner);
            }
        } else if (log) {
            RefSoftmax.logSoftmax(CpuBackend.f64(out), 0, CpuBackend.f64(c), c.offset(), outer, n, inner);
        } else {
            RefSoftmax.softmax(CpuBackend.f64(out), 0, CpuBackend.f64(c), c.offset(), outer, n, inner);
        }
        return out;
    }

    static Tensor softmaxBackward(Tensor y, Tensor gy, int dim, boolean log) {
        Tensor yc = contiguous(y);
        Tensor gc = contiguous(gy);
        int[] shape = yc.shapeRef();
        int outer = Shape.prod(shape, 0, dim);
        int n = shape[dim];
        int inner = Shape.prod(shape, dim + 1, shape.length);
        Tensor gx = CpuBackend.INSTANCE.zeros(yc.dtype(), shape);
        if (yc.dtype() == DType.F32) {
            float[] g = CpuBackend.f32(gx);
            if (log) {
                Softmax.logSoftmaxBackward(g, 0, CpuBackend.f32(yc), yc.offset(), CpuBackend.f32(gc), gc.offset(), outer, n, inner);
            } else {
                Softmax.softmaxBackward(g, 0, CpuBackend.f32(yc), yc.offset(), CpuBackend.f32(gc), gc.offset(), outer, n, inner);
            }
        } else {
            double[] g = CpuBackend.f64(gx);
            if (log) {
                RefSoftmax.logSoftmaxBackward(g, 0, CpuBackend.f64(yc), yc.offset(), CpuBackend.f64(gc), gc.offset(), outer, n, inner);
            } else {
                RefSoftmax.softmaxBackward(g, 0, CpuBackend.f64(yc), yc.offset(), CpuBackend.f64(gc), gc.offset(), outer, n, inner);
            }
        }
        return gx;
    }
}
