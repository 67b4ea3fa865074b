package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;
import static dev.kiln.nn.optim.OptimTesting.grad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.engine.DType;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.OptimTesting.Layout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GradClipTest {
    /** Gradients [[3, 0, 0], [0, 0, 0]] and [4]: L2 norm 5, L1 norm 7, max 4. */
    private static List<Parameter> threeFourFive(Layout l) {
        Parameter a = l.param(new double[6], 2, 3);
        grad(a, 3, 0, 0, 0, 0, 0);
        Parameter b = OptimTesting.param(l == Layout.F64 ? DType.F64 : DType.F32, new double[] {0}, 1);
        grad(b, 4);
        Parameter none = OptimTesting.param(DType.F32, new double[] {0}, 1);
        return List.of(a, b, none);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void scalesAllGradientsTogetherWhenTheNormExceedsTheMaximum(Layout l) {
        List<Parameter> ps = threeFourFive(l);
        double norm = GradClip.clipGradNorm(ps, 1.0);
        assertEquals(5.0, norm, 1e-12);
        double c = 1.0 / (5.0 + 1e-6);
        assertClose(l + " a", new double[] {3 * c, 0, 0, 0, 0, 0}, ps.get(0).grad(), l.tol);
        assertClose(l + " b", new double[] {4 * c}, ps.get(1).grad(), l.tol);
        assertEquals(null, ps.get(2).grad());
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void leavesGradientsAloneBelowTheMaximum(Layout l) {
        List<Parameter> ps = threeFourFive(l);
        assertEquals(5.0, GradClip.clipGradNorm(ps, 10.0), 1e-12);
        assertClose(l + " a", new double[] {3, 0, 0, 0, 0, 0}, ps.get(0).grad(), 0);
        assertClose(l + " b", new double[] {4}, ps.get(1).grad(), 0);
    }

    @Test
    void otherNorms() {
        assertEquals(7.0, GradClip.clipGradNorm(threeFourFive(Layout.F64), 100, 1), 1e-12);
        assertEquals(Math.cbrt(27 + 64), GradClip.clipGradNorm(threeFourFive(Layout.F32), 100, 3), 1e-12);
        List<Parameter> ps = threeFourFive(Layout.F32_STRIDED);
        assertEquals(4.0, GradClip.clipGradNorm(ps, 2, Double.POSITIVE_INFINITY), 1e-12);
        assertClose("inf-norm clip", new double[] {3 * 2 / (4 + 1e-6)}, new double[] {ps.get(0).grad().getDouble(0, 0)}, 1e-6);
    }

    @Test
    void noGradientsGiveZero() {
        Parameter p = OptimTesting.param(DType.F32, new double[] {1}, 1);
        assertEquals(0.0, GradClip.clipGradNorm(List.of(p), 1.0));
        assertEquals(0.0, GradClip.clipGradNorm(List.of(), 1.0));
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void clipGradValueClampsEachElement(Layout l) {
        Parameter p = l.param(new double[6], 2, 3);
        grad(p, -3, -0.5, 0, 0.25, 2, 7);
        GradClip.clipGradValue(List.of(p), 1.0);
        assertClose(l + " clamp", new double[] {-1, -0.5, 0, 0.25, 1, 1}, p.grad(), 0);
    }

    @Test
    void invalidArguments() {
        List<Parameter> ps = threeFourFive(Layout.F32);
        assertEquals("clipGradNorm: expected maxNorm >= 0, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(ps, -1)).getMessage());
        assertEquals("clipGradNorm: expected normType > 0 (or +infinity), got 0.0",
                assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(ps, 1, 0)).getMessage());
        assertEquals("clipGradValue: expected clipValue >= 0, got -2.0",
                assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradValue(ps, -2)).getMessage());
    }
}
