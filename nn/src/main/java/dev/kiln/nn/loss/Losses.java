package dev.kiln.nn.loss;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.Arrays;

/**
 * Loss functions with PyTorch's semantics and defaults ({@code torch.nn.functional}), composed from
 * engine ops so that their gradients come from autograd.
 *
 * <pre>{@code
 * Tensor loss = Losses.crossEntropy(logits, labels);                                  // mean over the batch
 * Tensor smoothed = Losses.crossEntropy(logits, labels, classWeights, 0.1, -100, Reduction.MEAN);
 * Tensor kd = Losses.klDiv(studentLogits.logSoftmax(1), teacherProbs, Reduction.BATCHMEAN);
 * }</pre>
 */
public final class Losses {
    /** PyTorch's default {@code ignore_index}. */
    public static final long IGNORE_INDEX = -100;

    private Losses() {
    }

    // ---------------------------------------------------------------- classification

    /** Cross-entropy of logits {@code [N, C]} and class indices {@code [N]}, averaged over the batch. */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        return crossEntropy(logits, target, null, 0, IGNORE_INDEX, Reduction.MEAN);
    }

    /**
     * Cross-entropy as {@code F.cross_entropy}: logits {@code [N, C]} (or {@code [N, C, d...]}, or
     * {@code [C]}) against class indices {@code [N]} (or {@code [N, d...]}, or {@code []}).
     * {@code classWeights} ({@code [C]}, nullable) weighs each sample by the weight of its class,
     * and the mean divides by the sum of the weights of the non-ignored targets. With label
     * smoothing {@code eps} the loss is {@code (1-eps) * nll + eps/C * sum_c(-w_c * logp_c)}, as
     * PyTorch 1.13. Targets equal to {@code ignoreIndex} contribute 0 (and nothing to the mean).
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Tensor classWeights, double labelSmoothing, long ignoreIndex,
                                      Reduction reduction) {
        String op = "crossEntropy";
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": expected label smoothing in [0, 1], got " + labelSmoothing);
        }
        requireNotBatchMean(op, reduction);
        ClassTargets t = ClassTargets.of(op, logits, target, classWeights, ignoreIndex);
        if (labelSmoothing == 0) {
            // the fused kernel: one pass per row instead of log-softmax, gather and negate
            return classification(t, Functional.crossEntropyRows(t.rows(), t.index()), null, null, 0, reduction);
        }
        Tensor logp = t.rows().logSoftmax(1);
        return classification(t, nllRows(logp, t), logp, classWeights, labelSmoothing, reduction);
    }

    /** Negative log-likelihood of log-probabilities {@code [N, C]} and class indices {@code [N]}, averaged. */
    public static Tensor nll(Tensor logProbs, Tensor target) {
        return nll(logProbs, target, null, IGNORE_INDEX, Reduction.MEAN);
    }

    /**
     * Negative log-likelihood as {@code F.nll_loss}: {@code -w[t] * logp[t]} per sample, shapes as
     * {@link #crossEntropy}; the mean divides by the sum of the weights of the non-ignored targets.
     */
    public static Tensor nll(Tensor logProbs, Tensor target, Tensor classWeights, long ignoreIndex, Reduction reduction) {
        requireNotBatchMean("nll", reduction);
        ClassTargets t = ClassTargets.of("nll", logProbs, target, classWeights, ignoreIndex);
        return classification(t, nllRows(t.rows(), t), null, null, 0, reduction);
    }

    /** {@code -logp[r, index[r]]} per row. */
    private static Tensor nllRows(Tensor logp, ClassTargets t) {
        return Functional.gather(logp, 1, t.index().unsqueeze(1)).reshape(-1).neg();
    }

    /**
     * Weighs, smooths (with {@code eps > 0}, from {@code logp}) and reduces the per-row losses
     * {@code nll} (ignored rows carry weight 0 in {@code t.rowWeights()}).
     */
    private static Tensor classification(ClassTargets t, Tensor nll, Tensor logp, Tensor classWeights, double eps,
                                         Reduction reduction) {
        Tensor loss = nll;
        if (t.rowWeights() != null) {
            loss = loss.mul(t.rowWeights());
        }
        if (eps > 0) {
            Tensor weighted = classWeights == null ? logp : logp.mul(classWeights.reshape(1, t.classes()));
            Tensor smooth = weighted.sum(1, false).neg();
            if (t.valid() != null) {
                smooth = smooth.mul(t.valid());
            }
            loss = loss.mul(1 - eps).add(smooth.mul(eps / t.classes()));
        }
        if (reduction == Reduction.MEAN && t.rowWeights() != null) {
            return loss.sum().div(t.rowWeights().sum());
        }
        return reduce(loss.reshape(t.outShape()), reduction);
    }

    // ---------------------------------------------------------------- regression

    /** Mean squared error, averaged. */
    public static Tensor mse(Tensor input, Tensor target) {
        return mse(input, target, Reduction.MEAN);
    }

    /** Squared error {@code (x - y)^2} as {@code F.mse_loss}; input and target have the same shape. */
    public static Tensor mse(Tensor input, Tensor target, Reduction reduction) {
        requireNotBatchMean("mse", reduction);
        requireLike("mse", input, target);
        return reduce(input.sub(target).square(), reduction);
    }

    /** Mean absolute error, averaged. */
    public static Tensor l1(Tensor input, Tensor target) {
        return l1(input, target, Reduction.MEAN);
    }

    /** Absolute error {@code |x - y|} as {@code F.l1_loss}. */
    public static Tensor l1(Tensor input, Tensor target, Reduction reduction) {
        requireNotBatchMean("l1", reduction);
        requireLike("l1", input, target);
        return reduce(input.sub(target).abs(), reduction);
    }

    /** Smooth L1 with threshold {@code beta}, averaged. */
    public static Tensor smoothL1(Tensor input, Tensor target, double beta) {
        return smoothL1(input, target, beta, Reduction.MEAN);
    }

    /**
     * Smooth L1 as {@code F.smooth_l1_loss}: {@code 0.5 d^2 / beta} where {@code |d| < beta}, else
     * {@code |d| - 0.5 beta}, with {@code d = x - y}; {@code beta = 0} is the L1 loss.
     */
    public static Tensor smoothL1(Tensor input, Tensor target, double beta, Reduction reduction) {
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("smoothL1: expected a finite beta >= 0, got " + beta);
        }
        requireNotBatchMean("smoothL1", reduction);
        requireLike("smoothL1", input, target);
        Tensor d = input.sub(target);
        Tensor ad = d.abs();
        Tensor loss = beta == 0 ? ad : ad.lt(beta).where(d.square().mul(0.5 / beta), ad.sub(0.5 * beta));
        return reduce(loss, reduction);
    }

    // ---------------------------------------------------------------- binary and distributions

    /** Binary cross-entropy on logits with targets in [0, 1], averaged; {@code posWeight} nullable. */
    public static Tensor bceWithLogits(Tensor logits, Tensor target, Tensor posWeight) {
        return bceWithLogits(logits, target, null, posWeight, Reduction.MEAN);
    }

    /**
     * Binary cross-entropy on logits as {@code F.binary_cross_entropy_with_logits}, computed stably
     * for any logit: {@code (1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))}, times {@code weight}.
     * {@code weight} and {@code posWeight} (nullable) broadcast against the input ({@code posWeight}
     * usually {@code [C]}, one per class in the last dim).
     */
    public static Tensor bceWithLogits(Tensor logits, Tensor target, Tensor weight, Tensor posWeight, Reduction reduction) {
        String op = "bceWithLogits";
        requireNotBatchMean(op, reduction);
        requireLike(op, logits, target);
        requireBroadcasts(op, "weight", weight, logits);
        requireBroadcasts(op, "posWeight", posWeight, logits);
        Tensor m = logits.neg().relu();
        Tensor softplusNeg = m.neg().exp().add(logits.neg().sub(m).exp()).log().add(m);
        Tensor logWeight = posWeight == null ? null : posWeight.sub(1).mul(target).add(1);
        Tensor loss = target.neg().add(1).mul(logits).add(logWeight == null ? softplusNeg : logWeight.mul(softplusNeg));
        if (weight != null) {
            loss = loss.mul(weight);
        }
        return reduce(loss, reduction);
    }

    /** KL divergence of a target distribution (probabilities) from log-probabilities {@code input}. */
    public static Tensor klDiv(Tensor input, Tensor target, Reduction reduction) {
        return klDiv(input, target, reduction, false);
    }

    /**
     * KL divergence as {@code F.kl_div}: {@code input} holds log-probabilities, {@code target}
     * probabilities (log-probabilities with {@code logTarget}); pointwise
     * {@code y log y - y x} ({@code 0} where {@code y = 0}), or {@code exp(y)(y - x)}.
     * {@link Reduction#BATCHMEAN} divides the sum by the batch size, the mathematically correct KL;
     * {@link Reduction#MEAN} divides by the number of elements, as PyTorch.
     */
    public static Tensor klDiv(Tensor input, Tensor target, Reduction reduction, boolean logTarget) {
        String op = "klDiv";
        requireLike(op, input, target);
        if (reduction == Reduction.BATCHMEAN && input.rank() == 0) {
            throw new IllegalArgumentException(op + ": expected an input with a batch dim for BATCHMEAN, got a scalar");
        }
        Tensor loss;
        if (logTarget) {
            loss = target.exp().mul(target.sub(input));
        } else {
            Tensor safe = target.eq(0).where(Tensors.onesLike(target), target);
            loss = target.mul(safe.log()).sub(target.mul(input));
        }
        return reduce(loss, reduction);
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor reduce(Tensor loss, Reduction reduction) {
        return switch (reduction) {
            case NONE -> loss;
            case MEAN -> loss.mean();
            case SUM -> loss.sum();
            case BATCHMEAN -> loss.sum().div(loss.size(0));
        };
    }

    private static void requireNotBatchMean(String op, Reduction reduction) {
        if (reduction == Reduction.BATCHMEAN) {
            throw new IllegalArgumentException(op + ": expected reduction NONE, MEAN or SUM (BATCHMEAN is only for klDiv), got BATCHMEAN");
        }
    }

    private static void requireLike(String op, Tensor input, Tensor target) {
        if (!Arrays.equals(input.shape(), target.shape()) || input.dtype() != target.dtype() || !input.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating input and a target of the same shape and dtype, got input "
                    + Arrays.toString(input.shape()) + " " + input.dtype() + " and target " + Arrays.toString(target.shape()) + " "
                    + target.dtype());
        }
    }

    private static void requireBroadcasts(String op, String what, Tensor t, Tensor input) {
        if (t == null) {
            return;
        }
        int[] ts = t.shape();
        int[] xs = input.shape();
        boolean ok = ts.length <= xs.length && t.dtype() == input.dtype();
        for (int i = 1; ok && i <= ts.length; i++) {
            int a = ts[ts.length - i];
            ok = a == 1 || a == xs[xs.length - i];
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": expected " + what + " that broadcasts to the input " + Arrays.toString(xs) + " "
                    + input.dtype() + ", got " + Arrays.toString(ts) + " " + t.dtype());
        }
    }
}
