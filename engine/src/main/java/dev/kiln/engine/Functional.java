package dev.kiln.engine;

/**
 * Neural-network functions over tensors, as {@code torch.nn.functional}: convolution, pooling,
 * softmax, dropout, normalization, embedding and index ops. All record their gradients.
 *
 * <pre>{@code
 * Tensor h = Functional.conv2d(x, w, b, 1, 2);                 // stride 1, padding 2
 * Tensor p = Functional.maxPool2d(h.relu(), 2);
 * Tensor logp = Functional.logSoftmax(p.flatten(1, -1).matmul(fc), 1);
 * }</pre>
 */
public final class Functional {
    private Functional() {
    }

    /**
     * Linear layer {@code x W^T + b}, as {@code torch.nn.functional.linear}: x {@code [..., in]},
     * weight {@code [out, in]}, bias {@code [out]} or null; result {@code [..., out]}. The bias is
     * added in the GEMM's store; same values and gradients as {@code x.matmul(w.t()).add(b)}.
     *
     * @throws IllegalArgumentException for mismatched shapes, dtypes or devices
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return LinalgOps.linear(x, weight, bias, false);
    }

    /**
     * {@code relu(x W^T + b)} in one fused op (bias and ReLU in the GEMM's store, the ReLU gradient
     * taken from the output): same values and gradients as {@code linear(x, w, b).relu()}.
     *
     * @throws IllegalArgumentException as {@link #linear}
     */
    public static Tensor linearRelu(Tensor x, Tensor weight, Tensor bias) {
        return LinalgOps.linear(x, weight, bias, true);
    }

    /** 2-D convolution, x [N, C, H, W], w [OC, C/groups, KH, KW], bias [OC] or null. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return ConvOps.conv2d(x, w, bias, stride, padding, dilation, groups);
    }

    /** 2-D convolution with square stride and padding, no dilation, one group. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding) {
        return ConvOps.conv2d(x, w, bias, new int[] {stride}, new int[] {padding}, new int[] {1}, 1);
    }

    /**
     * {@code relu(conv2d(...))} in one op (the ReLU applied in place to the convolution's output,
     * its gradient taken from that output): same values and gradients as
     * {@code conv2d(x, w, bias, stride, padding, dilation, groups).relu()}, one output tensor fewer.
     */
    public static Tensor conv2dRelu(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return ConvOps.conv2dRelu(x, w, bias, stride, padding, dilation, groups);
    }

    /** Max pooling; {@code stride} null or empty means the kernel size; ceilMode as in PyTorch. */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        return ConvOps.maxPool2d(x, kernel, stride, padding, dilation, ceilMode);
    }

    /** Max pooling with a square kernel and stride equal to it. */
    public static Tensor maxPool2d(Tensor x, int kernel) {
        return ConvOps.maxPool2d(x, new int[] {kernel}, null, new int[] {0}, new int[] {1}, false);
    }

    /** Average pooling; {@code stride} null or empty means the kernel size. */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        return ConvOps.avgPool2d(x, kernel, stride, padding, ceilMode, countIncludePad);
    }

    /** Average pooling with a square kernel and stride equal to it. */
    public static Tensor avgPool2d(Tensor x, int kernel) {
        return ConvOps.avgPool2d(x, new int[] {kernel}, null, new int[] {0}, false, true);
    }

    /** Adaptive average pooling to an {@code oh x ow} output. */
    public static Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        return ConvOps.adaptiveAvgPool2d(x, oh, ow);
    }

    public static Tensor softmax(Tensor x, int dim) {
        return softmaxImpl("softmax", x, dim, false);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return softmaxImpl("logSoftmax", x, dim, true);
    }

    private static Tensor softmaxImpl(String op, Tensor x, int dim, boolean log) {
        MathOps.requireFloating(op, x);
        if (x.rank() == 0) {
            return softmaxImpl(op, x.reshape(1), 0, log).reshape();
        }
        int d = Shape.dim(op, dim, x.rank());
        Tensor y = x.backend().softmax(x, d, log);
        return Autograd.record(op, y, g -> new Tensor[] {g.backend().softmaxBackward(y, g, d, log)}, x);
    }

    /**
     * Inverted dropout: in training, zeroes each element with probability {@code p} and scales the
     * rest by 1/(1-p); the identity otherwise.
     */
    public static Tensor dropout(Tensor x, double p, boolean training, Generator gen) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: expected a probability in [0, 1], got " + p);
        }
        if (!training || p == 0) {
            return x;
        }
        MathOps.requireFloating("dropout", x);
        if (p == 1) {
            return x.mul(0);
        }
        Tensor mask = Tensors.zeros(x.dtype(), x.shapeRef());
        HeapStorage h = (HeapStorage) mask.storage();
        double keep = 1 / (1 - p);
        for (int i = 0, n = mask.numel(); i < n; i++) {
            h.set(i, gen.nextDouble() >= p ? keep : 0);
        }
        return x.mul(mask.to(x.device()));
    }

    /**
     * Batch normalization over dim 1 of x [N, C, ...]. In training the batch statistics are used
     * and the running ones (if given) are updated in place with {@code momentum} (unbiased
     * variance, as PyTorch); in eval the running statistics are used.
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return NormOps.batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /**
     * {@code relu(batchNorm(...))} as one op where the backend fuses them (a conv, batch norm, ReLU
     * block's last two steps: the ReLU's output and input gradient are not made apart), with the
     * same values and gradients as the two ops.
     */
    public static Tensor batchNormRelu(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                       boolean training, double momentum, double eps) {
        return NormOps.batchNormRelu(x, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /** Layer normalization over the last {@code normalizedShape.length} dims. */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return NormOps.layerNorm(x, normalizedShape, weight, bias, eps);
    }

    /** Rows of {@code weight} [V, D] picked by integer {@code indices} of any shape: [..., D]. */
    public static Tensor embedding(Tensor weight, Tensor indices) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("embedding: expected weight [V, D], got " + Shape.str(weight.shapeRef()));
        }
        int[] is = indices.shapeRef();
        int[] out = java.util.Arrays.copyOf(is, is.length + 1);
        out[is.length] = weight.size(1);
        return indexSelect(weight, 0, indices.reshape(-1)).reshape(out);
    }

    /** Slices of x along {@code dim} at the positions in the 1-D integer {@code index}. */
    public static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        requireIndex("indexSelect", index);
        if (index.rank() != 1) {
            throw new IllegalArgumentException("indexSelect: expected a 1-D index, got " + Shape.str(index.shapeRef()));
        }
        int d = Shape.dim("indexSelect", dim, x.rank());
        Tensor y = x.backend().indexSelect(x, d, index);
        int[] xs = x.shape();
        return Autograd.record("indexSelect", y, g -> new Tensor[] {g.backend().indexAdd(xs, d, index, g)}, x);
    }

    /**
     * out[i][j] = x[i][index[i][j]] for dim 1 (and alike for other dims); index has x's rank and
     * x's sizes in every dim but {@code dim}.
     */
    public static Tensor gather(Tensor x, int dim, Tensor index) {
        requireIndex("gather", index);
        int d = Shape.dim("gather", dim, x.rank());
        int[] xs = x.shapeRef();
        int[] is = index.shapeRef();
        boolean ok = is.length == xs.length;
        for (int i = 0; ok && i < xs.length; i++) {
            ok = i == d || is[i] == xs[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("gather: expected an index of shape " + Shape.str(xs) + " except in dim " + d + ", got "
                    + Shape.str(is));
        }
        Tensor y = x.backend().gather(x, d, index);
        int[] shape = x.shape();
        return Autograd.record("gather", y, g -> new Tensor[] {g.backend().scatterAdd(shape, d, index, g)}, x);
    }

    /**
     * Per-row cross-entropy {@code -log_softmax(x, 1)[r, index[r]]} of logits {@code x [M, C]} and
     * class indices {@code index [M]} (I64 or I32, each in {@code [0, C)}): the loss of
     * {@code F.cross_entropy(x, index, reduction='none')}. On the CPU it is one fused kernel (one
     * pass per row forward; {@code softmax - onehot} backward) instead of log-softmax, gather and
     * negate; on the GPU also one fused kernel each way (kiln_xent_fwd/bwd); on other devices it is composed
     * from those ops. Differentiable in x.
     *
     * @throws IllegalArgumentException for a non-floating x, x not 2-D, an index of the wrong shape or
     *                                  dtype, or a class index out of range
     */
    public static Tensor crossEntropyRows(Tensor x, Tensor index) {
        String op = "crossEntropyRows";
        MathOps.requireFloating(op, x);
        requireIndex(op, index);
        if (x.rank() != 2 || index.rank() != 1 || index.size(0) != x.size(0)) {
            throw new IllegalArgumentException(op + ": expected logits [M, C] and indices [M], got " + Shape.str(x.shapeRef())
                    + " and " + Shape.str(index.shapeRef()));
        }
        if (x.device().type() == Device.Type.CUDA && x.dtype() == DType.F32) {
            return CudaNn.crossEntropyRows(CudaBackend.of(x.device()), x, index);
        }
        if (x.device().type() != Device.Type.CPU) {
            return gather(logSoftmax(x, 1), 1, index.unsqueeze(1)).reshape(-1).neg();
        }
        long[] t = index.to(DType.I64).toLongArray();
        Tensor xd = x.detach();
        Tensor[] ls = CpuLoss.crossEntropy(xd, t);
        Tensor stats = ls[1];
        return Autograd.record(op, ls[0], g -> new Tensor[] {CpuLoss.crossEntropyBackward(xd, stats, t, g)}, x);
    }

    private static void requireIndex(String op, Tensor index) {
        if (index.dtype() != DType.I64 && index.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": expected an I64 or I32 index, got " + index.dtype());
        }
    }

    /** Concatenation along {@code dim}. */
    public static Tensor cat(int dim, Tensor... xs) {
        return ViewOps.cat(xs, dim);
    }

    /** Stacking along a new {@code dim}. */
    public static Tensor stack(int dim, Tensor... xs) {
        return ViewOps.stack(xs, dim);
    }
}
