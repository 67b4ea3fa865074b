package dev.kiln.nn.loss;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.GradCheck;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import org.junit.jupiter.api.Test;

/** Every loss and reduction through GradCheck (F64, central differences), with respect to the input. */
class LossGradCheckTest {
    private final Generator gen = new Generator(99);

    private Tensor normal(double std, int... shape) {
        return Tensors.normal(gen, DType.F64, 0, std, shape).requiresGrad(true);
    }

    private Tensor uniform(double lo, double hi, int... shape) {
        return Tensors.uniform(gen, DType.F64, lo, hi, shape);
    }

    @Test
    void crossEntropyAndNll() {
        Tensor logits = normal(2, 5, 4);
        Tensor target = Tensors.of(new long[] {3, -100, 0, 2, 3}, 5);
        Tensor nllTarget = Tensors.of(new long[] {3, 1, 0, 2, 3}, 5);
        Tensor w = uniform(0.5, 2, 4);
        for (Reduction r : new Reduction[] {Reduction.NONE, Reduction.MEAN, Reduction.SUM}) {
            for (double eps : new double[] {0, 0.15}) {
                GradCheck.check("crossEntropy " + r + " eps " + eps, in -> Losses.crossEntropy(in[0], target, null, eps, -100, r), logits);
                GradCheck.check("crossEntropy weighted " + r + " eps " + eps, in -> Losses.crossEntropy(in[0], target, w, eps, -100, r), logits);
            }
            GradCheck.check("nll " + r, in -> Losses.nll(in[0], nllTarget, w, 3, r), normal(1, 5, 4));
        }
        Tensor spatial = normal(1, 2, 3, 2, 2);
        Tensor t2 = Tensors.of(new long[] {0, 1, 2, 2, 1, 0, -100, 1}, 2, 2, 2);
        GradCheck.check("crossEntropy spatial", in -> Losses.crossEntropy(in[0], t2, null, 0.1, -100, Reduction.MEAN), spatial);
    }

    @Test
    void regression() {
        Tensor y = uniform(-1, 1, 3, 4);
        for (Reduction r : new Reduction[] {Reduction.NONE, Reduction.MEAN, Reduction.SUM}) {
            GradCheck.check("mse " + r, in -> Losses.mse(in[0], y, r), normal(1, 3, 4));
            GradCheck.check("mse target " + r, in -> Losses.mse(y, in[0], r), normal(1, 3, 4));
            GradCheck.check("l1 " + r, in -> Losses.l1(in[0], y, r), normal(1, 3, 4));
            GradCheck.check("smoothL1 " + r, in -> Losses.smoothL1(in[0], y, 0.7, r), normal(1, 3, 4));
        }
    }

    @Test
    void bceWithLogits() {
        Tensor t = uniform(0, 1, 3, 4);
        Tensor w = uniform(0.5, 2, 4);
        Tensor pw = uniform(0.5, 3, 4);
        for (Reduction r : new Reduction[] {Reduction.NONE, Reduction.MEAN, Reduction.SUM}) {
            GradCheck.check("bce " + r, in -> Losses.bceWithLogits(in[0], t, null, null, r), normal(3, 3, 4));
            GradCheck.check("bce weighted " + r, in -> Losses.bceWithLogits(in[0], t, w, pw, r), normal(3, 3, 4));
        }
        Tensor far = Tensors.of(new double[] {30, -30, 45, -45}, 4).requiresGrad(true);
        GradCheck.check("bce far", in -> Losses.bceWithLogits(in[0], Tensors.of(new double[] {0, 1, 0.5, 0.5}, 4), null), far);
    }

    @Test
    void klDiv() {
        Tensor target = Tensors.of(new double[] {0.1, 0.6, 0.3, 0, 0.5, 0.5}, 2, 3);
        Tensor logTarget = Tensors.of(new double[] {-1, -2, -0.5, -3, -0.1, -1.5}, 2, 3);
        for (Reduction r : Reduction.values()) {
            GradCheck.check("klDiv " + r, in -> Losses.klDiv(in[0].logSoftmax(1), target, r), normal(1, 2, 3));
            GradCheck.check("klDiv logTarget " + r, in -> Losses.klDiv(in[0], logTarget, r, true), normal(1, 2, 3));
        }
    }
}
