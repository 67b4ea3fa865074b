package dev.kiln.engine;

/** CPU index ops: index_select / index_add along a dim, gather / scatter_add along a dim. */
final class CpuIndex {
    private CpuIndex() {
    }

    private static long[] indices(String op, Tensor index, int bound) {
        Tensor c = index.isContiguous() ? index : CpuBackend.INSTANCE.contiguous(index);
        HeapStorage h = CpuBackend.heap(c);
        int n = c.numel();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long v = h.getLong(c.offset() + i);
            if (v < 0 || v >= bound) {
                throw new IndexOutOfBoundsException(op + ": index " + v + " at position " + i + " is out of range [0, " + bound + ")");
            }
            out[i] = v;
        }
        return out;
    }

    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        Tensor c = CpuBackend.dense(x);
        int[] shape = c.shapeRef();
        int outer = Shape.prod(shape, 0, dim);
        int n = shape[dim];
        int inner = Shape.prod(shape, dim + 1, shape.length);
        long[] idx = indices("indexSelect", index, n);
        int[] outShape = shape.clone();
        outShape[dim] = idx.length;
        Tensor out = CpuBackend.INSTANCE.zeros(x.dtype(), outShape);
        Object src = CpuBackend.heap(c).array();
        Object dst = CpuBackend.heap(out).array();
        int len = idx.length;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < len; i++) {
                System.arraycopy(src, (int) ((o * (long) n + idx[i]) * inner), dst, (o * len + i) * inner, inner);
            }
        }
        return out;
    }

    static Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        Tensor s = CpuBackend.dense(src);
        int outer = Shape.prod(shape, 0, dim);
        int n = shape[dim];
        int inner = Shape.prod(shape, dim + 1, shape.length);
        long[] idx = indices("indexAdd", index, n);
        int len = idx.length;
        Tensor out = CpuBackend.INSTANCE.zeros(src.dtype(), shape);
        HeapStorage hs = CpuBackend.heap(s);
        HeapStorage ho = CpuBackend.heap(out);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < len; i++) {
                int from = (o * len + i) * inner;
                int to = (int) ((o * (long) n + idx[i]) * inner);
                addBlock(ho, to, hs, from, inner);
            }
        }
        return out;
    }

    private static void addBlock(HeapStorage dst, int to, HeapStorage src, int from, int len) {
        switch (dst.dtype()) {
            case F32 -> {
                float[] d = dst.f32();
                float[] s = src.f32();
                for (int j = 0; j < len; j++) {
                    d[to + j] += s[from + j];
                }
            }
            case F64 -> {
                double[] d = dst.f64();
                double[] s = src.f64();
                for (int j = 0; j < len; j++) {
                    d[to + j] += s[from + j];
                }
            }
            default -> {
                for (int j = 0; j < len; j++) {
                    dst.set(to + j, dst.get(to + j) + src.get(from + j));
                }
            }
        }
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        Tensor c = CpuBackend.dense(x);
        int[] shape = index.shapeRef();
        int outer = Shape.prod(shape, 0, dim);
        int len = shape[dim];
        int inner = Shape.prod(shape, dim + 1, shape.length);
        int n = c.shapeRef()[dim];
        long[] idx = indices("gather", index, n);
        Tensor out = CpuBackend.INSTANCE.zeros(x.dtype(), shape);
        HeapStorage hx = CpuBackend.heap(c);
        HeapStorage ho = CpuBackend.heap(out);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < inner; j++) {
                    int p = (o * len + i) * inner + j;
                    ho.set(p, hx.get((int) ((o * (long) n + idx[p]) * inner + j)));
                }
            }
        }
        return out;
    }

    static Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        Tensor s = CpuBackend.dense(src);
        int[] is = index.shapeRef();
        int outer = Shape.prod(is, 0, dim);
        int len = is[dim];
        int inner = Shape.prod(is, dim + 1, is.length);
        int n = shape[dim];
        long[] idx = indices("scatterAdd", index, n);
        Tensor out = CpuBackend.INSTANCE.zeros(src.dtype(), shape);
        HeapStorage hs = CpuBackend.heap(s);
        HeapStorage ho = CpuBackend.heap(out);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < inner; j++) {
                    int p = (o * len + i) * inner + j;
                    int q = (int) ((o * (long) n + idx[p]) * inner + j);
                    ho.set(q, ho.get(q) + hs.get(p));
                }
            }
        }
        return out;
    }
}
