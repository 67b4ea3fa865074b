package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Simd;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fp32 functions of {@link VMath} and {@link VMathD}: error in ulps against double on a spread of
 * floats (every binade, both signs), IEEE special values, and vector lanes equal to the scalar twin,
 * on the short path (all lanes ordinary) and the full one (a special value in the vector).
 */
class VMathTest {
    private static final int L = Simd.F.length();
    private static final float[] SPECIAL = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
        1f, -1f, 0.5f, -0.5f, 88.72283f, 88.72284f, -87.33654f, -103.97208f, -103.97209f, 1e-30f, -1e-30f,
        0.625f, -0.625f, 9f, -9f, 100f, -100f, 3e-39f};

    private record Fn(String name, UnaryOperator<FloatVector> vector, UnaryOperator<Float> scalar,
                      DoubleUnaryOperator exact, double maxUlp) {
    }

    private static Fn fn(String name) {
        return switch (name) {
            case "exp" -> new Fn(name, VMath::exp, VMath::exp, Math::exp, 1.0);
            case "log" -> new Fn(name, VMath::log, VMath::log, Math::log, 1.0);
            case "tanh" -> new Fn(name, VMath::tanh, VMath::tanh, Math::tanh, 1.6);
            default -> new Fn(name, VMath::sigmoid, VMath::sigmoid,
                    x -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)), 2.5);
        };
    }

    /** |got - exact| in units of the float spacing at exact (subnormal spacing below MIN_NORMAL). */
    static double ulps(float got, double exact) {
        float rounded = (float) exact;
        if (Float.compare(got, rounded) == 0 || Float.isNaN(got) && Double.isNaN(exact)) {
            return 0;
        }
        if (Float.isNaN(got) || Double.isNaN(exact) || Float.isInfinite(got) || Float.isInfinite(rounded)) {
            return Double.POSITIVE_INFINITY;
        }
        int e = exact == 0 ? Float.MIN_EXPONENT : Math.max(Math.getExponent(exact), Float.MIN_EXPONENT);
        return Math.abs(got - exact) / Math.scalb(1.0, e - 23);
    }

    /** Floats spread over every binade and both signs, plus the special values. */
    private static float[] spread(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = Arrays.copyOf(SPECIAL, n);
        for (int i = SPECIAL.length; i < n; i++) {
            x[i] = Float.intBitsToFloat(rnd.nextInt());
            if (i % 2 == 0) {
                x[i] = (float) rnd.nextDouble(-120, 120);
            }
        }
        return x;
    }

    /** Applies the vector function over x, L lanes at a time (the leftover lanes through the scalar twin). */
    private static float[] vectorOver(Fn f, float[] x) {
        float[] y = new float[x.length];
        int i = 0;
        for (; i + L <= x.length; i += L) {
            f.vector().apply(FloatVector.fromArray(Simd.F, x, i)).intoArray(y, i);
        }
        for (; i < x.length; i++) {
            y[i] = f.scalar().apply(x[i]);
        }
        return y;
    }

    @ParameterizedTest
    @ValueSource(strings = {"exp", "log", "tanh", "sigmoid"})
    void withinUlpsOfDoubleAndLanesEqualTheScalarTwin(String name) {
        Fn f = fn(name);
        float[] x = spread(100_000, name.hashCode());
        float[] y = vectorOver(f, x);
        float[] ordinary = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float a = Math.abs(x[i]);
            ordinary[i] = a > 1e-30f && a < 40f ? a : 0.75f;
        }
        float[] fast = vectorOver(f, ordinary);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            float s = f.scalar().apply(x[i]);
            int k = i;
            assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(y[i]),
                    () -> name + "(" + x[k] + "): vector lane " + y[k] + ", scalar " + s);
            float so = f.scalar().apply(ordinary[i]);
            assertEquals(Float.floatToIntBits(so), Float.floatToIntBits(fast[i]),
                    () -> name + "(" + ordinary[k] + ") on the short path: vector lane " + fast[k] + ", scalar " + so);
            double u = ulps(s, f.exact().applyAsDouble(x[i]));
            assertTrue(u <= f.maxUlp(), () -> name + "(" + x[k] + ") = " + s + ", exact "
                    + f.exact().applyAsDouble(x[k]) + ": " + u + " ulp");
            worst = Math.max(worst, u);
        }
        assertTrue(worst > 0.3, name + ": suspiciously exact (" + worst + " ulp): is the reference the function?");
    }

    @Test
    void specialValues() {
        float inf = Float.POSITIVE_INFINITY;
        assertEquals(1f, VMath.exp(0f));
        assertEquals(1f, VMath.exp(-0f));
        assertEquals(inf, VMath.exp(inf));
        assertEquals(0f, VMath.exp(-inf));
        assertEquals(inf, VMath.exp(88.72284f));
        assertTrue(ulps(VMath.exp(88.72283f), Math.exp(88.72283f)) <= 1);
        assertEquals(Float.MIN_VALUE, VMath.exp(-103.28f));
        assertEquals(0f, VMath.exp(-104f));
        assertEquals((float) Math.exp(-95), VMath.exp(-95f), Float.MIN_VALUE);
        assertTrue(Float.isNaN(VMath.exp(Float.NaN)));

        assertEquals(0f, VMath.log(1f));
        assertEquals(-inf, VMath.log(0f));
        assertEquals(-inf, VMath.log(-0f));
        assertEquals(inf, VMath.log(inf));
        assertTrue(Float.isNaN(VMath.log(-1f)));
        assertTrue(Float.isNaN(VMath.log(-inf)));
        assertTrue(Float.isNaN(VMath.log(-Float.MIN_VALUE)));
        assertTrue(Float.isNaN(VMath.log(Float.NaN)));
        assertTrue(ulps(VMath.log(Float.MIN_VALUE), Math.log(Float.MIN_VALUE)) <= 1);
        assertTrue(ulps(VMath.log(Float.MAX_VALUE), Math.log(Float.MAX_VALUE)) <= 1);

        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(VMath.tanh(-0f)));
        assertEquals(0f, VMath.tanh(0f));
        assertEquals(1f, VMath.tanh(inf));
        assertEquals(-1f, VMath.tanh(-inf));
        assertEquals(1f, VMath.tanh(10f));
        assertEquals(1e-30f, VMath.tanh(1e-30f));
        assertEquals(-Float.MIN_VALUE, VMath.tanh(-Float.MIN_VALUE));
        assertTrue(Float.isNaN(VMath.tanh(Float.NaN)));

        assertEquals(0.5f, VMath.sigmoid(0f));
        assertEquals(1f, VMath.sigmoid(inf));
        assertEquals(0f, VMath.sigmoid(-inf));
        assertEquals((float) 3.720075976020836e-44, VMath.sigmoid(-100f));
        assertTrue(Float.isNaN(VMath.sigmoid(Float.NaN)));
    }

    @Test
    void specialValuesAgreeBetweenLanesAndScalars() {
        for (String name : new String[] {"exp", "log", "tanh", "sigmoid"}) {
            Fn f = fn(name);
            float[] x = new float[SPECIAL.length * L];
            for (int i = 0; i < x.length; i++) {
                x[i] = SPECIAL[(i * 7) % SPECIAL.length];
            }
            float[] y = vectorOver(f, x);
            for (int i = 0; i < x.length; i++) {
                float s = f.scalar().apply(x[i]);
                assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(y[i]), name + "(" + x[i] + ")");
                assertTrue(ulps(s, f.exact().applyAsDouble(x[i])) <= f.maxUlp(),
                        name + "(" + x[i] + ") = " + s + ", exact " + f.exact().applyAsDouble(x[i]));
            }
        }
    }

    @Test
    void powIsCorrectlyRoundedAndFollowsMathPow() {
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 50_000;
        float[] x = new float[n];
        float[] p = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 4) {
                case 0 -> (float) rnd.nextDouble(0, 4);
                case 1 -> (float) Math.exp(rnd.nextDouble(-80, 80));
                case 2 -> (float) -rnd.nextDouble(0, 10);
                default -> Float.intBitsToFloat(rnd.nextInt());
            };
            p[i] = switch (i % 3) {
                case 0 -> (float) rnd.nextDouble(-3, 3);
                case 1 -> rnd.nextInt(-40, 40);
                default -> (float) rnd.nextDouble(-100, 100);
            };
        }
        float[] y = new float[n];
        VMathD.pow(y, 0, x, 0, 1, p, 0, 1, n);
        for (int i = 0; i < n; i++) {
            int k = i;
            float s = VMathD.pow(x[i], p[i]);
            assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(y[i]), () -> "pow(" + x[k] + ", " + p[k] + ")");
            double u = ulps(s, Math.pow(x[i], p[i]));
            assertTrue(u <= 0.5 + 1e-6, () -> "pow(" + x[k] + ", " + p[k] + ") = " + s + ": " + u + " ulp");
        }
        float[] special = {0f, -0f, 1f, -1f, 2f, -2f, 0.5f, -0.5f, 3f, -3f, 1.5f, -1.5f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE, 8388609f, -8388609f, 16777216f,
            16777218f, 1e30f, -1e30f, 0.3f, -7f};
        for (float a : special) {
            for (float b : special) {
                assertEquals((float) Math.pow(a, b), VMathD.pow(a, b), "pow(" + a + ", " + b + ")");
            }
        }
    }

    @Test
    void doubleLogIsWithinAnUlp() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int i = 0; i < 100_000; i++) {
            double x = Math.exp(rnd.nextDouble(-700, 700));
            assertTrue(Math.abs(VMathD.log(x) - Math.log(x)) <= Math.ulp(Math.log(x)), () -> "log(" + x + ")");
        }
        assertEquals(Double.NEGATIVE_INFINITY, VMathD.log(0));
        assertEquals(Double.POSITIVE_INFINITY, VMathD.log(Double.POSITIVE_INFINITY));
        assertTrue(Double.isNaN(VMathD.log(-1)));
        assertTrue(Double.isNaN(VMathD.log(Double.NaN)));
    }
}
