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
        MathOps.requireFloating("batchNorm", x);
        if (x.rank() < 2) {
            throw new IllegalArgumentException("batchNorm: expected input [N, C, ...], got " + Shape.str(x.shapeRef()));
        }
        int c = x.size(1);
        requireVector("batchNorm", "running mean", runningMean, c);
        requireVector("batchNorm", "running var", runningVar, c);
        requireVector("batchNorm", "weight", weight, c);
        requireVector("batchNorm", "bias", bias, c);
        int[] cs = channelShape(x.rank(), c);
        int[] dims = new int[x.rank() - 1];
        dims[0] = 0;
        for (int i = 2; i < x.rank(); i++) {
            dims[i - 1] = i;
        }
        Tensor mean;
        Tensor var;
        if (training) {
            int count = x.numel() / c;
            if (count < 2) {
                throw new IllegalArgumentException("batchNorm: expected more than one value per channel in training, got input "
                        + Shape.str(x.shapeRef()));
            }
            mean = x.mean(dims, true);
            var = x.var(dims, false, true);
            if (runningMean != null && runningVar != null) {
                try (var ng = Grad.disabled()) {
                    runningMean.mulInPlace(1 - momentum).addInPlace(mean.reshape(c), momentum);
                    runningVar.mulInPlace(1 - momentum).addInPlace(var.reshape(c).mul((double) count / (count - 1)), momentum);
                }
            }
        } else {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batchNorm: eval mode needs running mean and var, got none");
            }
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
