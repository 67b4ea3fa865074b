package dev.kiln.kernels.cpu;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One loop per binary function and operand kind for {@link Elementwise#binary}: vector-vector
 * ({@code VV}, strides 1 and 1), vector-scalar ({@code VS}, strides 1 and 0) and scalar-vector
 * ({@code SV}, strides 0 and 1; commutative ops swap to VS). A broadcast operand is read once, before
 * anything is written, so it may live inside the output. MAX and MIN are {@link Math#max} /
 * {@link Math#min} (NaN wins, +0 above -0); POW is {@link VMathD#pow}, which follows {@link Math#pow}
 * (negative bases with integer exponents included). Arguments are checked by the caller.
 */
final class BinaryLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private BinaryLoops() {
    }

    /** One value of {@code a op b}, as the loops compute it. */
    static float scalar(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> VMathD.pow(a, b);
        };
    }

    /** {@code o[oo + i] = a[ao + i] op b[bo + i]}. */
    static void vv(BinaryOp op, float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        switch (op) {
            case ADD -> addVV(o, oo, a, ao, b, bo, n);
            case SUB -> subVV(o, oo, a, ao, b, bo, n);
            case MUL -> mulVV(o, oo, a, ao, b, bo, n);
            case DIV -> divVV(o, oo, a, ao, b, bo, n);
            case MAX -> maxVV(o, oo, a, ao, b, bo, n);
            case MIN -> minVV(o, oo, a, ao, b, bo, n);
            case POW -> VMathD.pow(o, oo, a, ao, 1, b, bo, 1, n);
        }
    }

    /** {@code o[oo + i] = a[ao + i] op b}. */
    static void vs(BinaryOp op, float[] o, int oo, float[] a, int ao, float b, int n) {
        switch (op) {
            case ADD -> addVS(o, oo, a, ao, b, n);
            case SUB -> subVS(o, oo, a, ao, b, n);
            case MUL -> mulVS(o, oo, a, ao, b, n);
            case DIV -> divVS(o, oo, a, ao, b, n);
            case MAX -> maxVS(o, oo, a, ao, b, n);
            case MIN -> minVS(o, oo, a, ao, b, n);
            case POW -> VMathD.pow(o, oo, a, ao, 1, new float[] {b}, 0, 0, n);
        }
    }

    /** {@code o[oo + i] = a op b[bo + i]}. */
    static void sv(BinaryOp op, float[] o, int oo, float a, float[] b, int bo, int n) {
        switch (op) {
            case ADD -> addVS(o, oo, b, bo, a, n);
            case SUB -> subSV(o, oo, a, b, bo, n);
            case MUL -> mulVS(o, oo, b, bo, a, n);
            case DIV -> divSV(o, oo, a, b, bo, n);
            case MAX -> maxVS(o, oo, b, bo, a, n);
            case MIN -> minVS(o, oo, b, bo, a, n);
            case POW -> VMathD.pow(o, oo, new float[] {a}, 0, 0, b, bo, 1, n);
        }
    }

    private static FloatVector load(float[] x, int i) {
        return FloatVector.fromArray(F, x, i);
    }

    private static void addVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).add(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] + b[bo + i];
        }
    }

    private static void addVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).add(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] + b;
        }
    }

    private static void subVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).sub(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] - b[bo + i];
        }
    }

    private static void subVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).sub(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] - b;
        }
    }

    private static void subSV(float[] o, int oo, float a, float[] b, int bo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            av.sub(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a - b[bo + i];
        }
    }

    private static void mulVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).mul(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] * b[bo + i];
        }
    }

    private static void mulVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).mul(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] * b;
        }
    }

    private static void divVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).div(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] / b[bo + i];
        }
    }

    private static void divVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).div(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a[ao + i] / b;
        }
    }

    private static void divSV(float[] o, int oo, float a, float[] b, int bo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            av.div(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = a / b[bo + i];
        }
    }

    private static void maxVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).max(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Math.max(a[ao + i], b[bo + i]);
        }
    }

    private static void maxVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).max(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Math.max(a[ao + i], b);
        }
    }

    private static void minVV(float[] o, int oo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).min(load(b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Math.min(a[ao + i], b[bo + i]);
        }
    }

    private static void minVS(float[] o, int oo, float[] a, int ao, float b, int n) {
        FloatVector bv = FloatVector.broadcast(F, b);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(a, ao + i).min(bv).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Math.min(a[ao + i], b);
        }
    }
}
