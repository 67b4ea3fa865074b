package dev.kiln.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.nn.Parameter;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SchedulerTest {
    /** SGD with two groups, lr 0.1 and 0.02. */
    static Optimizer twoGroups() {
        Parameter a = OptimTesting.param(DType.F32, new double[] {0, 0}, 2);
        Parameter b = OptimTesting.param(DType.F32, new double[] {0, 0, 0}, 3);
        return SGD.withGroups(List.of(ParamGroup.of(List.of(a)).lr(0.1), ParamGroup.of(List.of(b)).lr(0.02)), 0.1, 0.9, 0,
                false);
    }

    @Test
    void stepLRDividesEveryStepSizeSteps() {
        Optimizer opt = twoGroups();
        StepLR s = new StepLR(opt, 3, 0.1);
        double[] expected = {0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001};
        for (int t = 0; t < expected.length; t++) {
            if (t > 0) {
                s.step();
            }
            assertEquals(expected[t], s.lr(), 1e-15, "step " + t);
            assertEquals(expected[t] / 5, opt.groups().get(1).lr(), 1e-15, "group 1 at step " + t);
            assertEquals(t, s.stepCount());
        }
    }

    @Test
    void resumeEqualsSteppingThatManyTimes() {
        List<Function<Optimizer, ClosedFormScheduler>> makers = List.of(
                o -> new MultiStepLR(o, new int[] {4, 2}, 0.5),
                o -> new CosineAnnealingLR(o, 7, 0.001),
                o -> new LinearWarmup(3, 0.2, new StepLR(o, 2, 0.5)),
                o -> OneCycleLR.builder(o, 0.4, 12).threePhase(true).build());
        for (var make : makers) {
            Optimizer stepped = twoGroups();
            ClosedFormScheduler a = make.apply(stepped);
            for (int t = 0; t < 9; t++) {
                a.step();
            }
            Optimizer jumped = twoGroups();
            ClosedFormScheduler b = make.apply(jumped);
            b.resume(9);
            String what = a.getClass().getSimpleName();
            for (int g = 0; g < 2; g++) {
                assertEquals(stepped.groups().get(g).lr(), jumped.groups().get(g).lr(), 1e-15, what + " lr of group " + g);
                assertEquals(stepped.groups().get(g).momentum(), jumped.groups().get(g).momentum(), 1e-15, what + " momentum");
            }
            assertEquals(9, b.stepCount());
        }
    }

    @Test
    void linearWarmupRisesThenHandsOverToTheNextScheduleAtItsStepZero() {
        Optimizer opt = twoGroups();
        CosineAnnealingLR cosine = new CosineAnnealingLR(opt, 10, 0.0);
        LinearWarmup warm = new LinearWarmup(4, 0.25, cosine);
        assertEquals(0.1 * 0.25, warm.lr(), 1e-15);
        for (int t = 1; t <= 8; t++) {
            warm.step();
            double expected = t < 4 ? 0.1 * (0.25 + 0.75 * t / 4) : 0.1 * (1 + Math.cos(Math.PI * (t - 4) / 10)) / 2;
            assertEquals(expected, warm.lr(), 1e-15, "step " + t);
            assertEquals(expected / 5, opt.groups().get(1).lr(), 1e-15, "group 1 at step " + t);
        }
    }

    @Test
    void linearWarmupAloneHoldsTheBaseRateAfterwards() {
        Optimizer opt = twoGroups();
        LinearWarmup warm = new LinearWarmup(opt, 2, 0.5);
        warm.resume(5);
        assertEquals(0.1, warm.lr(), 1e-15);
        assertEquals(0.02, opt.groups().get(1).lr(), 1e-15);
    }

    @Test
    void oneCycleStopsAfterTotalStepsAndCyclesMomentumOnlyWhenAsked() {
        Optimizer opt = twoGroups();
        OneCycleLR s = new OneCycleLR(opt, 1.0, 4);
        assertEquals(1.0 / 25, s.lr(), 1e-15);
        assertEquals(0.95, opt.groups().get(0).momentum(), 1e-15);
        for (int t = 0; t < 4; t++) {
            s.step();
        }
        double last = s.lr();
        IllegalStateException e = assertThrows(IllegalStateException.class, s::step);
        assertTrue(e.getMessage().startsWith("OneCycleLR: step 5 is past the end of the schedule (totalSteps 4"), e.getMessage());
        assertEquals(last, s.lr(), "a refused step changes nothing");
        assertEquals(4, s.stepCount());

        Optimizer plain = twoGroups();
        OneCycleLR.builder(plain, 1.0, 4).cycleMomentum(false).build().step();
        assertEquals(0.9, plain.groups().get(1).momentum());
    }

    @Test
    void oneCycleDrivesBeta1OfAdam() {
        Parameter p = OptimTesting.param(DType.F32, new double[] {0}, 1);
        Adam adam = new Adam(List.of(p), 0.001, 0.5, 0.999, 1e-8, 0);
        OneCycleLR s = OneCycleLR.builder(adam, 0.01, 10).momentum(0.7, 0.8).build();
        assertEquals(0.8, adam.groups().get(0).beta1(), 1e-15);
        s.resume(2);
        assertEquals(0.7, adam.groups().get(0).beta1(), 1e-15, "the peak of the lr is the trough of beta1");
        assertEquals(0.01, s.lr(), 1e-15);
    }

    @Test
    void invalidArguments() {
        Optimizer opt = twoGroups();
        assertMessage("StepLR: expected stepSize > 0, got 0", () -> new StepLR(opt, 0, 0.1));
        assertMessage("MultiStepLR: expected a finite gamma >= 0, got -0.5", () -> new MultiStepLR(opt, new int[] {1}, -0.5));
        assertMessage("CosineAnnealingLR: expected tMax > 0, got 0", () -> new CosineAnnealingLR(opt, 0, 0));
        assertMessage("LinearWarmup: expected startFactor in (0, 1], got 0.0", () -> new LinearWarmup(opt, 5, 0));
        assertMessage("OneCycleLR: expected totalSteps > 0, got 0", () -> new OneCycleLR(opt, 0.1, 0));
        assertMessage("OneCycleLR: expected pctStart in [0, 1], got 1.5", () -> OneCycleLR.builder(opt, 0.1, 10).pctStart(1.5));
        assertMessage("OneCycleLR: expected 2 maxLrs (one per group), got 1",
                () -> OneCycleLR.builder(opt, 0.1, 10).maxLrs(0.1).build());
        assertMessage("StepLR.resume: expected a step >= 0, got -1", () -> new StepLR(opt, 2, 0.5).resume(-1));
    }

    private static void assertMessage(String expected, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(expected, e.getMessage());
    }
}
