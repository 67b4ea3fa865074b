package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;
import static dev.kiln.nn.optim.OptimTesting.grad;
import static dev.kiln.nn.optim.SGDTest.G;
import static dev.kiln.nn.optim.SGDTest.G2;
import static dev.kiln.nn.optim.SGDTest.W;
import static dev.kiln.nn.optim.SGDTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.kiln.engine.DType;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.OptimTesting.Layout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AdamTest {
    private static final double EPS = 1e-8;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void firstStepMovesEachWeightByAboutLrAgainstItsGradient(Layout l) {
        Parameter p = l.param(W, 2, 3);
        grad(p, G);
        new Adam(List.of(p), 0.1, 0.9, 0.999, EPS, 0).step();
        // bias-corrected m = g and v = g^2, so the step is lr * g / (|g| + eps); a zero gradient moves nothing
        double[] expected = {1 - 0.1 * 0.5 / (0.5 + EPS), 2 + 0.1 / (1 + EPS), -1 - 0.1 * 0.25 / (0.25 + EPS),
            0.5 - 0.1 * 2 / (2 + EPS), -0.25 + 0.1 * 0.5 / (0.5 + EPS), 3};
        assertClose(l + " adam step 1", expected, p.get(), l.tol);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void twoStepsWithL2WeightDecayFollowTheBiasCorrectedFormula(Layout l) {
        Parameter p = l.param(W, 2, 3);
        Adam opt = new Adam(List.of(p), 0.05, 0.8, 0.9, 1e-6, 0.2);
        double[] w = W.clone();
        double[] m = new double[6];
        double[] v = new double[6];
        double[][] grads = {G, G2};
        for (int t = 1; t <= 2; t++) {
            grad(p, grads[t - 1]);
            opt.step();
            for (int i = 0; i < 6; i++) {
                double g = grads[t - 1][i] + 0.2 * w[i];
                m[i] = 0.8 * m[i] + 0.2 * g;
                v[i] = 0.9 * v[i] + 0.1 * g * g;
                double mHat = m[i] / (1 - Math.pow(0.8, t));
                double vHat = v[i] / (1 - Math.pow(0.9, t));
                w[i] -= 0.05 * mHat / (Math.sqrt(vHat) + 1e-6);
            }
            assertClose(l + " adam+L2 step " + t, w, p.get(), l.tol);
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void adamWDecaysTheWeightBeforeTheAdamStep(Layout l) {
        Parameter p = l.param(W, 2, 3);
        grad(p, G);
        new AdamW(List.of(p), 0.1, 0.9, 0.999, EPS, 0.5).step();
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) {
            expected[i] = W[i] * (1 - 0.1 * 0.5) - 0.1 * G[i] / (Math.abs(G[i]) + EPS);
        }
        assertClose(l + " adamw step 1", expected, p.get(), l.tol);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void amsgradKeepsTheLargestSecondMoment(Layout l) {
        Parameter p = l.param(W, 2, 3);
        Adam opt = new Adam(List.of(p), 0.1, 0.5, 0.5, EPS, 0, true);
        double[] big = {4, -4, 4, -4, 4, -4};
        double[] small = {0.1, 0.1, -0.1, 0.1, 0.1, -0.1};
        grad(p, big);
        opt.step();
        grad(p, small);
        opt.step();
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) {
            double w1 = W[i] - 0.1 * Math.signum(big[i]) * 4 / (4 + EPS);
            double m2 = 0.25 * big[i] + 0.5 * small[i];
            double vmax = 0.5 * 16;                        // v1 = 8 > v2 = 4 + 0.005
            expected[i] = w1 - 0.1 / (1 - 0.25) * m2 / (Math.sqrt(vmax) / Math.sqrt(1 - 0.25) + EPS);
        }
        assertClose(l + " amsgrad step 2", expected, p.get(), l.tol);
    }

    @Test
    void defaultsAreThoseOfPyTorch() {
        Parameter p = OptimTesting.param(DType.F32, new double[] {1}, 1);
        ParamGroup adam = new Adam(List.of(p)).groups().get(0);
        ParamGroup adamW = new AdamW(List.of(p)).groups().get(0);
        for (ParamGroup g : List.of(adam, adamW)) {
            assertEquals(1e-3, g.lr());
            assertEquals(0.9, g.beta1());
            assertEquals(0.999, g.beta2());
            assertEquals(1e-8, g.eps());
            assertFalse(g.amsgrad());
        }
        assertEquals(0.0, adam.weightDecay());
        assertEquals(1e-2, adamW.weightDecay());
    }

    @Test
    void groupsOverrideBetasAndWeightDecay() {
        Parameter a = OptimTesting.param(DType.F64, new double[] {1}, 1);
        Parameter b = OptimTesting.param(DType.F64, new double[] {1}, 1);
        AdamW opt = AdamW.withGroups(List.of(ParamGroup.of(List.of(a)).betas(0.5, 0.6).weightDecay(0), ParamGroup.of(List.of(b))),
                0.1, 0.9, 0.999, EPS, 0.3, false);
        assertEquals(0.5, opt.groups().get(0).beta1());
        assertEquals(0.6, opt.groups().get(0).beta2());
        assertEquals(0.3, opt.groups().get(1).weightDecay());
        grad(a, 2);
        grad(b, 2);
        opt.step();
        assertClose("group 0", new double[] {1 - 0.1 * 2 / (2 + EPS)}, a.get(), 1e-12);
        assertClose("group 1", new double[] {(1 - 0.1 * 0.3) - 0.1 * 2 / (2 + EPS)}, b.get(), 1e-12);
    }

    @Test
    void invalidArgumentsAreRejectedWithTheValueGiven() {
        Parameter p = OptimTesting.param(DType.F32, new double[] {1}, 1);
        assertMessage("Adam: expected lr >= 0 (finite), got -0.001", () -> new Adam(List.of(p), -1e-3, 0.9, 0.999, EPS, 0));
        assertMessage("Adam: expected beta1 in [0, 1), got 1.0", () -> new Adam(List.of(p), 1e-3, 1.0, 0.999, EPS, 0));
        assertMessage("AdamW: expected beta2 in [0, 1), got -0.1", () -> new AdamW(List.of(p), 1e-3, 0.9, -0.1, EPS, 0));
        assertMessage("AdamW: expected eps >= 0 (finite), got -1.0E-8", () -> new AdamW(List.of(p), 1e-3, 0.9, 0.99, -EPS, 0));
        assertMessage("Adam: got an empty parameter list", () -> new Adam(List.of()));
        assertMessage("ParamGroup: expected beta1 in [0, 1), got 1.5", () -> ParamGroup.of(List.of(p)).betas(1.5, 0.9));
    }
}
