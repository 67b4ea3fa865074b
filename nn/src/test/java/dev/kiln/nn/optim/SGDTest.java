package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;
import static dev.kiln.nn.optim.OptimTesting.grad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.OptimTesting.Layout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SGDTest {
    static final double[] W = {1, 2, -1, 0.5, -0.25, 3};
    static final double[] G = {0.5, -1, 0.25, 2, -0.5, 0};
    static final double[] G2 = {1, 1, -1, 0, 0.5, 2};

    @ParameterizedTest
    @EnumSource(Layout.class)
    void plainStepIsWeightMinusLrTimesGrad(Layout l) {
        Parameter p = l.param(W, 2, 3);
        grad(p, G);
        new SGD(List.of(p), 0.1).step();
        assertClose(l + " plain", new double[] {0.95, 2.1, -1.025, 0.3, -0.2, 3.0}, p.get(), l.tol);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void weightDecayIsAddedToTheGradient(Layout l) {
        Parameter p = l.param(W, 2, 3);
        grad(p, G);
        new SGD(List.of(p), 0.1, 0, 0.1, false).step();
        // d = G + 0.1 W = [0.6, -0.8, 0.15, 2.05, -0.525, 0.3]
        assertClose(l + " wd", new double[] {0.94, 2.08, -1.015, 0.295, -0.1975, 2.97}, p.get(), l.tol);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void momentumBufferStartsAsTheGradientThenAccumulates(Layout l) {
        Parameter p = l.param(W, 2, 3);
        SGD opt = SGD.withGroups(List.of(ParamGroup.of(List.of(p)).dampening(0.3)), 0.1, 0.9, 0, false);
        grad(p, G);
        opt.step();
        double[] w1 = new double[6];
        double[] w2 = new double[6];
        for (int i = 0; i < 6; i++) {
            w1[i] = W[i] - 0.1 * G[i];                        // buf = G (no dampening on the first step)
            w2[i] = w1[i] - 0.1 * (0.9 * G[i] + 0.7 * G2[i]);  // buf = 0.9 buf + (1 - 0.3) G2
        }
        assertClose(l + " momentum step 1", w1, p.get(), l.tol);
        grad(p, G2);
        opt.step();
        assertClose(l + " momentum step 2", w2, p.get(), l.tol);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void nesterovLooksAhead(Layout l) {
        Parameter p = l.param(W, 2, 3);
        SGD opt = new SGD(List.of(p), 0.1, 0.9, 0, true);
        grad(p, G);
        opt.step();
        double[] w1 = new double[6];
        double[] w2 = new double[6];
        for (int i = 0; i < 6; i++) {
            w1[i] = W[i] - 0.1 * (G[i] + 0.9 * G[i]);
            double buf = 0.9 * G[i] + G2[i];
            w2[i] = w1[i] - 0.1 * (G2[i] + 0.9 * buf);
        }
        assertClose(l + " nesterov step 1", w1, p.get(), l.tol);
        grad(p, G2);
        opt.step();
        assertClose(l + " nesterov step 2", w2, p.get(), l.tol);
    }

    @Test
    void skipsParametersWithoutGradientAndFrozenOnes() {
        Parameter used = OptimTesting.param(DType.F32, new double[] {1, 2}, 2);
        Parameter noGrad = OptimTesting.param(DType.F32, new double[] {3, 4}, 2);
        Parameter frozen = OptimTesting.param(DType.F32, new double[] {5, 6}, 2);
        SGD opt = new SGD(List.of(used, noGrad, frozen), 1.0, 0.9, 0.1, false);
        frozen.trainable(false);
        grad(used, 1, 1);
        grad(frozen, 1, 1);
        opt.step();
        assertClose("used", new double[] {1 - 1.1, 2 - 1.2}, used.get(), 1e-6);
        assertClose("no grad", new double[] {3, 4}, noGrad.get(), 0);
        assertClose("frozen", new double[] {5, 6}, frozen.get(), 0);
        assertEquals(1, opt.stateDict().keySet().stream().filter(k -> k.startsWith("state.")).count(),
                "only the updated parameter gets a momentum buffer");
    }

    @Test
    void zeroGradClearsEveryGradient() {
        Parameter a = OptimTesting.param(DType.F32, new double[] {1}, 1);
        Parameter b = OptimTesting.param(DType.F32, new double[] {2}, 1);
        SGD opt = SGD.withGroups(List.of(ParamGroup.of(List.of(a)), ParamGroup.of(List.of(b))), 0.1, 0, 0, false);
        grad(a, 1);
        grad(b, 1);
        opt.zeroGrad();
        assertNull(a.grad());
        assertNull(b.grad());
    }

    @Test
    void zeroGradWithoutSetToNoneZeroesTheHeldTensorsInPlace() {
        Parameter a = OptimTesting.param(DType.F32, new double[] {1, 2}, 2);
        Parameter b = OptimTesting.param(DType.F32, new double[] {3}, 1);
        SGD opt = new SGD(List.of(a, b), 0.1, 0, 0, false);
        grad(a, 5, 6);
        Tensor held = a.grad();
        opt.zeroGrad(false);
        assertSame(held, a.grad(), "the same gradient tensor is kept");
        assertArrayEquals(new double[] {0, 0}, held.toDoubleArray());
        assertNull(b.grad(), "a parameter without a gradient keeps none");
    }

    @Test
    void groupsKeepTheirOwnOptionsAndTakeTheRestFromTheDefaults() {
        Parameter a = OptimTesting.param(DType.F64, new double[] {1}, 1);
        Parameter b = OptimTesting.param(DType.F64, new double[] {1}, 1);
        SGD opt = SGD.withGroups(List.of(ParamGroup.of(List.of(a)).lr(0.5).weightDecay(0.1), ParamGroup.of(List.of(b))),
                0.1, 0.9, 0, true);
        ParamGroup g0 = opt.groups().get(0);
        ParamGroup g1 = opt.groups().get(1);
        assertEquals(0.5, g0.lr());
        assertEquals(0.1, g0.weightDecay());
        assertEquals(0.9, g0.momentum());
        assertTrue(g0.nesterov());
        assertEquals(0.1, g1.lr());
        assertEquals(0.0, g1.weightDecay());
        assertEquals(0.0, g1.dampening());
        grad(a, 1);
        grad(b, 1);
        opt.step();
        assertClose("group 0", new double[] {1 - 0.5 * 1.1 * 1.9}, a.get(), 1e-12);
        assertClose("group 1", new double[] {1 - 0.1 * 1.9}, b.get(), 1e-12);
        assertFalse(opt.toString().isEmpty());
    }

    @Test
    void invalidArgumentsAreRejectedWithTheValueGiven() {
        Parameter p = OptimTesting.param(DType.F32, new double[] {1}, 1);
        assertMessage("SGD: expected lr >= 0 (finite), got -0.1", () -> new SGD(List.of(p), -0.1));
        assertMessage("SGD: expected momentum >= 0 (finite), got -0.5", () -> new SGD(List.of(p), 0.1, -0.5, 0, false));
        assertMessage("SGD: expected weightDecay >= 0 (finite), got -1.0", () -> new SGD(List.of(p), 0.1, 0, -1, false));
        assertMessage("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum 0.0 and dampening 0.0",
                () -> new SGD(List.of(p), 0.1, 0, 0, true));
        assertMessage("SGD: got an empty parameter list", () -> new SGD(List.of(), 0.1));
        assertMessage("ParamGroup: expected lr >= 0 (finite), got NaN", () -> ParamGroup.of(List.of(p)).lr(Double.NaN));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> SGD.withGroups(List.of(ParamGroup.of(List.of(p)), ParamGroup.of(List.of(p))), 0.1, 0, 0, false));
        assertTrue(twice.getMessage().contains("appears in more than one parameter group"), twice.getMessage());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> ParamGroup.of(List.of(p, p)));
        assertTrue(dup.getMessage().contains("parameter 1") && dup.getMessage().contains("twice"), dup.getMessage());
    }

    @Test
    void addGroupFillsDefaultsAndRejectsMembersOfAnotherGroup() {
        Parameter a = OptimTesting.param(DType.F64, new double[] {1}, 1);
        Parameter b = OptimTesting.param(DType.F64, new double[] {1}, 1);
        SGD opt = new SGD(List.of(a), 0.1, 0.9, 0, false);
        ParamGroup late = ParamGroup.of(List.of(b)).lr(0.01);
        opt.addGroup(late);
        assertEquals(0.9, late.momentum());
        assertEquals(0.01, late.lr());
        assertThrows(IllegalArgumentException.class, () -> opt.addGroup(ParamGroup.of(List.of(a))));
        assertEquals(2, opt.groups().size());
    }

    static void assertMessage(String expected, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(expected, e.getMessage());
    }
}
