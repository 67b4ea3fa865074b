package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static dev.kiln.engine.EngineAsserts.assertValues;
import static dev.kiln.engine.EngineAsserts.d;
import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The tape: backward, accumulation, graph freeing, detach, no-grad scopes, deep graphs. */
class AutogradTest {

    private static Tensor leaf(double... v) {
        return Tensors.of(v, v.length).requiresGrad(true);
    }

    @Test
    void backwardOnAScalar() {
        Tensor x = leaf(1, -2, 3);
        Tensor loss = x.mul(x).sum();
        assertFalse(loss.isLeaf());
        assertTrue(loss.requiresGrad());
        loss.backward();
        assertValues("d/dx sum(x*x)", x.grad(), s(3), d(2, -4, 6), 0);
        assertTrue(x.isLeaf());
    }

    @Test
    void gradientsAccumulateOverBackwardCalls() {
        Tensor x = leaf(1, 2);
        x.mul(3).sum().backward();
        x.mul(3).sum().backward();
        assertValues("two backward calls add up", x.grad(), s(2), d(6, 6), 0);
        x.setGrad(null);
        assertNull(x.grad());
        x.square().sum().backward();
        assertValues("after clearing the gradient", x.grad(), s(2), d(2, 4), 0);
    }

    @Test
    void f32GradientsHaveTheLeafDtype() {
        Tensor w = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true);
        Tensor x = Tensors.of(new float[] {1, -1, 2}, 1, 3);
        x.matmul(w).sum().backward();
        assertEquals(DType.F32, w.grad().dtype());
        assertValues("d/dw sum(x w)", w.grad(), s(3, 2), d(1, 1, -1, -1, 2, 2), 0);
        assertNull(x.grad(), "an input that does not require grad gets none");
    }

    @Test
    void explicitGradientForANonScalar() {
        Tensor x = leaf(1, 2, 3);
        Tensor y = x.mul(2);
        y.backward(Tensors.of(new double[] {1, 10, 100}, 3));
        assertValues("vector-Jacobian product", x.grad(), s(3), d(2, 20, 200), 0);
    }

    @Test
    void nonScalarBackwardWithoutGradientFails() {
        Tensor y = leaf(1, 2, 3).mul(2);
        assertThrowsWith(IllegalArgumentException.class, y::backward, "backward", "scalar", "[3]");
        assertThrowsWith(IllegalArgumentException.class, () -> y.backward(Tensors.ones(DType.F64, 2)), "backward", "[3]", "[2]");
        assertThrowsWith(IllegalArgumentException.class, () -> y.backward(Tensors.ones(3)), "backward", "F64", "F32");
    }

    @Test
    void backwardOfATensorWithoutGradFails() {
        Tensor y = Tensors.ones(DType.F64, 2).mul(2).sum();
        assertThrowsWith(IllegalStateException.class, y::backward, "backward", "does not require grad");
    }

    @Test
    void backwardTwiceThroughAFreedGraphFails() {
        Tensor x = leaf(1, 2);
        Tensor loss = x.exp().sum();
        loss.backward();
        assertThrowsWith(IllegalStateException.class, loss::backward, "already freed", "retain");
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor x = leaf(0, 1);
        Tensor loss = x.exp().sum();
        loss.backward(null, true);
        loss.backward();
        assertValues("two passes over one retained graph", x.grad(), s(2), d(2, 2 * Math.E), 1e-12);
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(1, 2, 3);
        Tensor d = x.mul(2).detach();
        assertTrue(d.isLeaf());
        assertFalse(d.requiresGrad());
        assertSame(x.storage(), x.detach().storage(), "detach shares the data");
        d.mul(x).sum().backward();
        assertValues("gradient only through the attached factor", x.grad(), s(3), d(2, 4, 6), 0);
    }

    @Test
    void requiresGradFalseOnANonLeafFails() {
        Tensor y = leaf(1).mul(2);
        assertThrowsWith(IllegalStateException.class, () -> y.requiresGrad(false), "requiresGrad(false)", "mul", "detach()");
    }

    @Test
    void requiresGradOnIntegersFails() {
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.arange(3).requiresGrad(true), "requiresGrad", "floating", "I64");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.ofBool(new boolean[] {true}, 1).requiresGrad(true), "BOOL");
    }

    @Test
    void gradDisabledRecordsNothingAndRestoresOnClose() {
        Tensor x = leaf(1, 2);
        assertTrue(Grad.isEnabled());
        try (var outer = Grad.disabled()) {
            assertFalse(Grad.isEnabled());
            Tensor y = x.mul(2);
            assertFalse(y.requiresGrad());
            assertNull(y.gradFn());
            try (var inner = Grad.disabled()) {
                assertFalse(Grad.isEnabled());
            }
            assertFalse(Grad.isEnabled(), "closing a nested disabled scope keeps recording off");
            try (var on = Grad.enabled()) {
                assertTrue(Grad.isEnabled());
                assertTrue(x.mul(2).requiresGrad(), "an enabled scope inside a disabled one records");
            }
            assertFalse(Grad.isEnabled(), "closing an enabled scope restores the disabled mode");
        }
        assertTrue(Grad.isEnabled(), "closing the outer scope restores recording");
        Grad.Scope sc = Grad.disabled();
        sc.close();
        sc.close();
        assertTrue(Grad.isEnabled(), "closing a scope twice is harmless");
    }

    @Test
    void gradModeIsPerThread() throws InterruptedException {
        boolean[] seen = new boolean[1];
        try (var ng = Grad.disabled()) {
            Thread t = new Thread(() -> seen[0] = Grad.isEnabled());
            t.start();
            t.join();
        }
        assertTrue(seen[0], "another thread still records while this one is in a disabled scope");
    }

    @Test
    void sharedSubexpressionsSumTheirGradients() {
        Tensor x = leaf(1, 2, 3);
        Tensor y = x.mul(x).add(x);
        y.sum().backward();
        assertValues("d/dx (x*x + x)", x.grad(), s(3), d(3, 5, 7), 0);

        Tensor z = leaf(0.5, -1);
        Tensor e = z.exp();
        e.mul(e).add(e.mul(3)).sum().backward();
        double[] expected = new double[2];
        for (int i = 0; i < 2; i++) {
            double ez = Math.exp(z.getDouble(i));
            expected[i] = 2 * ez * ez + 3 * ez;
        }
        assertValues("d/dz (e*e + 3e), e = exp(z) used three times", z.grad(), s(2), expected, 1e-12);
    }

    @Test
    void intermediateTensorsGetNoGrad() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2);
        y.sum().backward();
        assertNull(y.grad(), "only leaves keep their gradient");
        assertNotNull(x.grad());
    }

    @Test
    void gradientsFlowThroughViews() {
        Tensor x = Tensors.zeros(DType.F64, 3, 4).requiresGrad(true);
        x.narrow(1, 1, 2).t().select(0, 1).sum().backward();
        assertValues("d/dx sum of column 2", x.grad(), s(3, 4), d(0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0), 0);
        Tensor b = leaf(1, 2);
        b.expand(3, 2).sum().backward();
        assertValues("expand sums the gradient back", b.grad(), s(2), d(3, 3), 0);
    }

    @Test
    void aLeafCanBeTheRoot() {
        Tensor x = leaf(1, 2);
        x.backward(Tensors.of(new double[] {5, 6}, 2));
        assertValues("backward on a leaf", x.grad(), s(2), d(5, 6), 0);
    }

    @Test
    void gradFnNamesTheOp() {
        Tensor x = leaf(1);
        Tensor y = x.mul(x);
        assertEquals("mul", y.gradFn().op());
        assertTrue(y.toString().contains("grad_fn=mulBackward"), y.toString());
        assertEquals("conv2d", Functional.conv2d(x.reshape(1, 1, 1, 1), x.reshape(1, 1, 1, 1), null, 1, 0).gradFn().op());
    }

    @Test
    void comparisonsAndIntegerResultsAreNotRecorded() {
        Tensor x = leaf(1, 2);
        assertFalse(x.gt(1.5).requiresGrad());
        assertFalse(x.argmax(0, false).requiresGrad());
    }

    @Test
    void deepChainDoesNotOverflowTheStack() {
        Tensor x = leaf(1, 2);
        Tensor y = x;
        int n = 10_000;
        for (int i = 0; i < n; i++) {
            y = y.mul(1.0).add(0.0);
        }
        y.sum().backward();
        assertValues("gradient through a chain of " + 2 * n + " ops", x.grad(), s(2), d(1, 1), 0);
    }

    /** Gradients of every input of {@code f}, computed in the inputs' dtype, as doubles. */
    private static double[][] grads(java.util.function.Function<Tensor[], Tensor> f, Tensor[] inputs, DType dt) {
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = inputs[i].to(dt).detach().contiguous().requiresGrad(true);
        }
        Tensor out = f.apply(in);
        Tensor w = Tensors.uniform(new Generator(99), DType.F64, 0.5, 1.5, out.shape()).to(dt);
        out.mul(w).sum().backward();
        double[][] g = new double[in.length][];
        for (int i = 0; i < in.length; i++) {
            g[i] = in[i].grad().toDoubleArray();
        }
        return g;
    }

    private static void assertF32GradsMatchF64(String what, java.util.function.Function<Tensor[], Tensor> f, Tensor... inputs) {
        double[][] g32 = grads(f, inputs, DType.F32);
        double[][] g64 = grads(f, inputs, DType.F64);
        for (int i = 0; i < inputs.length; i++) {
            // the fp32 backward kernels accumulate a few dozen fp32 products of values of order 1
            EngineAsserts.assertClose(what + ": gradient of input " + i + " " + Shape.str(inputs[i].shape()), g32[i], g64[i], 1e-4, 1e-4);
        }
    }

    @Test
    void f32BackwardAgreesWithF64() {
        Generator g = new Generator(40);
        assertF32GradsMatchF64("conv2d stride 2 pad 1 dil 2 groups 2 + bias",
                in -> Functional.conv2d(in[0], in[1], in[2], s(2), s(1), s(2), 2),
                Tensors.uniform(g, DType.F64, -1, 1, 2, 4, 9, 8), Tensors.uniform(g, DType.F64, -1, 1, 6, 2, 3, 3),
                Tensors.uniform(g, DType.F64, -1, 1, 6));
        assertF32GradsMatchF64("conv2d 3x3 pad 1", in -> Functional.conv2d(in[0], in[1], null, 1, 1),
                Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 7, 7), Tensors.uniform(g, DType.F64, -1, 1, 5, 3, 3, 3));
        assertF32GradsMatchF64("maxPool2d k3 s2 p1", in -> Functional.maxPool2d(in[0], s(3), s(2), s(1), s(1), false),
                Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 9, 9));
        assertF32GradsMatchF64("avgPool2d k3 s2 p1 ceil", in -> Functional.avgPool2d(in[0], s(3), s(2), s(1), true, false),
                Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 9, 9));
        assertF32GradsMatchF64("adaptiveAvgPool2d 9x9 -> 4x5", in -> Functional.adaptiveAvgPool2d(in[0], 4, 5),
                Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 9, 9));
        for (int dim = 0; dim < 3; dim++) {
            int d = dim;
            assertF32GradsMatchF64("softmax(" + d + ")", in -> in[0].softmax(d), Tensors.uniform(g, DType.F64, -2, 2, 4, 19, 3));
            assertF32GradsMatchF64("logSoftmax(" + d + ")", in -> in[0].logSoftmax(d), Tensors.uniform(g, DType.F64, -2, 2, 4, 19, 3));
        }
        assertF32GradsMatchF64("matmul transposed views", in -> in[0].t().matmul(in[1]),
                Tensors.uniform(g, DType.F64, -1, 1, 40, 30), Tensors.uniform(g, DType.F64, -1, 1, 40, 50));
        assertF32GradsMatchF64("broadcast batch matmul", in -> in[0].matmul(in[1]),
                Tensors.uniform(g, DType.F64, -1, 1, 3, 1, 5, 6), Tensors.uniform(g, DType.F64, -1, 1, 4, 6, 7));
        assertF32GradsMatchF64("gelu, sigmoid, tanh", in -> in[0].gelu().add(in[0].sigmoid()).mul(in[0].tanh()),
                Tensors.uniform(g, DType.F64, -3, 3, 3, 50));
        assertF32GradsMatchF64("batchNorm", in -> Functional.batchNorm(in[0], null, null, in[1], in[2], true, 0.1, 1e-5),
                Tensors.uniform(g, DType.F64, -1, 1, 4, 3, 5), Tensors.uniform(g, DType.F64, 0.5, 1.5, 3),
                Tensors.uniform(g, DType.F64, -1, 1, 3));
    }

    @Test
    void customOpsRecordTheirOwnBackward() {
        Tensor x = leaf(1, 2);
        Tensor y = Autograd.record("twice", x.detach().mul(2), g -> new Tensor[] {g.mul(2)}, x);
        assertEquals("twice", y.gradFn().op());
        y.sum().backward();
        assertValues("custom op gradient", x.grad(), s(2), d(2, 2), 0);
        Tensor plain = Tensors.ones(DType.F64, 2);
        assertSame(plain, Autograd.record("noop", plain, g -> new Tensor[] {g}, Tensors.ones(DType.F64, 2)));
        assertNull(plain.gradFn(), "nothing is recorded when no input requires grad");
    }

    @Test
    void gradientsOfTheWrongShapeFromABackwardAreCaught() {
        Tensor x = leaf(1, 2);
        Tensor y = Autograd.record("bad", x.detach().mul(2), g -> new Tensor[] {g.sum()}, x);
        assertThrowsWith(IllegalStateException.class, () -> y.sum().backward(), "bad", "[]", "[2]");
    }
}
