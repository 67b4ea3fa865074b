package dev.kiln.engine;

/** Batch and layer normalization, composed from recorded ops (so their gradients follow). */
final class NormOps {
    private NormOps() {
    }

    private static int[] channelShape(int rank, int c) {
        int[] s = new int[rank];
        java.util.Arrays.fill(s, 1);
        s[1] = c;
        return s;
    }

    private static void requireVector(String op, String what, Tensor t, int c) {
        if (t != null && (t.rank() != 1 || t.size(0) != c)) {
            throw new IllegalArgumentException(op + ": expected " + what + " of shape [" + c + "], got " + Shape.str(t.shapeRef()));
        }
    }

    static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                            boolean training, double momentum, double eps) {
        validateBatchNorm(x, runningMean, runningVar, weight, bias, training);
        Tensor fused = fusedBatchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, false);
        return fused != null ? fused : composedBatchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /**
     * {@code relu(batchNorm(...))}: one fused op where the backend has the kernel (its backward
     * masks the gradient with the op's output, as the ReLU's would), else the two ops apart. The
     * same values and gradients either way.
     */
    static Tensor batchNormRelu(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                boolean training, double momentum, double eps) {
        validateBatchNorm(x, runningMean, runningVar, weight, bias, training);
        Tensor fused = fusedBatchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, true);
        return fused != null ? fused : batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps).relu();
    }

    private static void validateBatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                          boolean training) {
        MathOps.requireFloating("batchNorm", x);
        if (x.rank() < 2) {
            throw new IllegalArgumentException("batchNorm: expected input [N, C, ...], got " + Shape.str(x.shapeRef()));
        }
        int c = x.size(1);
        requireVector("batchNorm", "running mean", runningMean, c);
        requireVector("batchNorm", "running var", runningVar, c);
        requireVector("batchNorm", "weight", weight, c);
        requireVector("batchNorm", "bias", bias, c);
        if (training && x.numel() / Math.max(c, 1) < 2) {
            throw new IllegalArgumentException("batchNorm: expected more than one value per channel in training, got input "
                    + Shape.str(x.shapeRef()));
        }
        if (!training && (runningMean == null || runningVar == null)) {
            throw new IllegalArgumentException("batchNorm: eval mode needs running mean and var, got none");
        }
    }

    /**
     * Batch norm composed from recorded reductions and elementwise ops: the form for backends without
     * a fused kernel, and the check of the fused ones in tests. Arguments as validated by {@link #batchNorm}.
     */
    static Tensor composedBatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                    boolean training, double momentum, double eps) {
        int c = x.size(1);
        int[] cs = channelShape(x.rank(), c);
        int[] dims = new int[x.rank() - 1];
        dims[0] = 0;
        for (int i = 2; i < x.rank(); i++) {
            dims[i - 1] = i;
        }
        Tensor mean;
        Tensor var;
        if (training) {
            mean = x.mean(dims, true);
            var = x.var(dims, false, true);
            updateRunning(runningMean, runningVar, mean.reshape(c), var.reshape(c), x.numel() / c, momentum);
        } else {
            mean = runningMean.reshape(cs);
            var = runningVar.reshape(cs);
        }
        Tensor y = x.sub(mean).div(var.add(eps).sqrt());
        if (weight != null) {
            y = y.mul(weight.reshape(cs));
        }
        if (bias != null) {
            y = y.add(bias.reshape(cs));
        }
        return y;
    }

    /**
     * The backend's fused batch norm (with a ReLU after it when {@code relu}), recorded as one op, or
     * null where the backend has none or the arguments need the composed form (mixed dtypes or
     * devices, running statistics that require grad).
     */
    private static Tensor fusedBatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                         boolean training, double momentum, double eps, boolean relu) {
        for (Tensor t : new Tensor[] {runningMean, runningVar, weight, bias}) {
            if (t != null && (t.dtype() != x.dtype() || t.device() != x.device())) {
                return null;
            }
        }
        if (!training && (runningMean.requiresGrad() || runningVar.requiresGrad())) {
            return null;
        }
        Backend be = x.backend();
        Tensor rm = training ? null : runningMean;
        Tensor rv = training ? null : runningVar;
        Tensor[] r = relu ? be.batchNormRelu(x, rm, rv, weight, bias, eps) : be.batchNorm(x, rm, rv, weight, bias, eps);
        if (r == null) {
            return null;
        }
        Tensor mean = r[1];
        Tensor invstd = r[2];
        if (training) {
            updateRunning(runningMean, runningVar, mean, r[3], x.numel() / x.size(1), momentum);
        }
        Tensor y = r[0];
        return Autograd.record(relu ? "batchNormRelu" : "batchNorm", y, gy -> {
            boolean[] needs = {x.requiresGrad(), weight != null && weight.requiresGrad(), bias != null && bias.requiresGrad()};
            return relu ? gy.backend().batchNormReluBackward(gy, y, x, mean, invstd, weight, training, needs)
                    : gy.backend().batchNormBackward(gy, x, mean, invstd, weight, training, needs);
        }, x, weight, bias);
    }

    /** running = (1 - momentum)*running + momentum*batch, with the variance made unbiased, as PyTorch does. */
    private static void updateRunning(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor var, int count, double momentum) {
        if (runningMean == null || runningVar == null) {
            return;
        }
        try (var ng = Grad.disabled()) {
            runningMean.mulInPlace(1 - momentum).addInPlace(mean, momentum);
            runningVar.mulInPlace(1 - momentum).addInPlace(var.mul((double) count / (count - 1)), momentum);
        }
    }

    static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        MathOps.requireFloating("layerNorm", x);
        int k = normalizedShape.length;
        int r = x.rank();
        int[] xs = x.shapeRef();
        boolean ok = k >= 1 && k <= r;
        for (int i = 0; ok && i < k; i++) {
            ok = xs[r - k + i] == normalizedShape[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("layerNorm: expected the input to end in " + Shape.str(normalizedShape) + ", got "
                    + Shape.str(xs));
        }
        for (Tensor t : new Tensor[] {weight, bias}) {
            if (t != null && !java.util.Arrays.equals(t.shapeRef(), normalizedShape)) {
                throw new IllegalArgumentException("layerNorm: expected weight/bias of shape " + Shape.str(normalizedShape) + ", got "
                        + Shape.str(t.shapeRef()));
            }
        }
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = r - k + i;
        }
        Tensor mean = x.mean(dims, true);
        Tensor var = x.var(dims, false, true);
        Tensor y = x.sub(mean).div(var.add(eps).sqrt());
        if (weight != null) {
            y = y.mul(weight);
        }
        if (bias != null) {
            y = y.add(bias);
        }
        return y;
    }
}
