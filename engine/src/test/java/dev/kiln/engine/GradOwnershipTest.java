package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertValues;
import static dev.kiln.engine.EngineAsserts.d;
import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import org.junit.jupiter.api.Test;

/**
 * A leaf takes a freshly computed gradient buffer as its gradient instead of copying it; these
 * cases check that it never takes a buffer that something else still sees (the caller's gradient,
 * another leaf's gradient, a gradient still to be propagated, an input, a view of the incoming
 * gradient): changing one gradient in place must never change another, and values stay exact.
 */
class GradOwnershipTest {

    private static Tensor leaf(double... v) {
        return Tensors.of(v, v.length).requiresGrad(true);
    }

    private static Object buffer(Tensor t) {
        return ((HeapStorage) t.storage()).array();
    }

    @Test
    void twoLeavesOfOneAddDoNotShareTheirGradient() {
        Tensor a = leaf(1, 2);
        Tensor b = leaf(3, 4);
        a.add(b).mul(3).sum().backward();
        assertNotSame(buffer(a.grad()), buffer(b.grad()));
        a.grad().addInPlace(Tensors.of(new double[] {10, 10}, 2));
        assertValues("b's gradient after a's changed", b.grad(), s(2), d(3, 3), 0);
    }

    @Test
    void oneLeafTwiceInOneNodeAccumulates() {
        Tensor a = leaf(1, 2);
        a.mul(2).add(a.mul(2)).sum().backward();
        assertValues("d/da (2a + 2a)", a.grad(), s(2), d(4, 4), 0);
        Tensor c = leaf(1, 2);
        Tensor h = c.mul(3);
        h.add(h).sum().backward();
        assertValues("d/dc (3c + 3c)", c.grad(), s(2), d(6, 6), 0);
    }

    @Test
    void theCallersGradientIsNeverTaken() {
        Tensor a = leaf(1, 2, 3, 4);
        Tensor g = Tensors.of(new double[] {1, 2, 3, 4}, 2, 2);
        a.reshape(2, 2).backward(g);
        assertNotSame(buffer(g), buffer(a.grad()));
        g.addInPlace(g);
        assertValues("a's gradient after the caller's changed", a.grad(), s(4), d(1, 2, 3, 4), 0);
        Tensor b = leaf(1, 2);
        Tensor c = leaf(5, 6);
        Tensor gy = Tensors.of(new double[] {1, 1}, 2);
        b.add(c).backward(gy);
        gy.mul(0);
        assertNotSame(buffer(gy), buffer(b.grad()));
        assertNotSame(buffer(gy), buffer(c.grad()));
    }

    @Test
    void aGradientStillToBePropagatedIsNotChangedByALeafThatTookIt() {
        // f = sum(N + p), p = a + h, h = reshape(k), k = 2a, N = a * k. The tape reaches p first:
        // the gradient it gives the leaf a is also on its way to k (through h), and a receives
        // more from N before k's turn.
        Tensor a = leaf(1, 2);
        Tensor k = a.mul(2);
        Tensor h = k.reshape(1, 2).reshape(2);
        Tensor p = a.add(h);
        Tensor n = a.mul(k);
        n.add(p).sum().backward();
        assertValues("d/da (2a^2 + a + 2a)", a.grad(), s(2), d(7, 11), 0);
        Tensor b = leaf(1, 2);
        Tensor kb = b.mul(2);
        Tensor q = b.mul(kb.reshape(1, 2).reshape(2));
        b.mul(kb).mul(3).add(q).sum().backward();
        assertValues("d/db (6b^2 + 2b^2)", b.grad(), s(2), d(16, 32), 0);
    }

    @Test
    void viewsOfTheIncomingGradientAreCopied() {
        Tensor a = leaf(1, 2);
        Tensor b = leaf(3, 4, 5);
        Tensor y = Functional.cat(0, a, b);
        Tensor g = Tensors.of(new double[] {1, 2, 3, 4, 5}, 5);
        y.backward(g);
        g.mul(2);
        g.addInPlace(g);
        assertValues("a's slice", a.grad(), s(2), d(1, 2), 0);
        assertValues("b's slice", b.grad(), s(3), d(3, 4, 5), 0);
        Tensor x = leaf(1, 2, 3);
        x.sum().mul(2).backward();
        assertValues("expanded gradient", x.grad(), s(3), d(2, 2, 2), 0);
    }

    @Test
    void aTakenGradientAccumulatesLikeACopiedOne() {
        Tensor w = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true);
        Tensor x = Tensors.of(new float[] {1, -1, 2}, 1, 3);
        x.matmul(w).sum().backward();
        Tensor first = w.grad();
        x.matmul(w).mul(2).sum().backward();
        assertValues("d/dw sum(x w) + sum(2 x w)", w.grad(), s(3, 2), d(3, 3, -3, -3, 6, 6), 0);
        w.setGrad(null);
        x.matmul(w).sum().backward();
        assertNotSame(buffer(first), buffer(w.grad()));
        assertValues("a new gradient after clearing", w.grad(), s(3, 2), d(1, 1, -1, -1, 2, 2), 0);
    }

    @Test
    void aGradientOfAnotherDtypeIsConverted() {
        Tensor a = leaf(1, 2);
        a.to(DType.F32).mul(3).sum().backward();
        assertValues("F64 leaf through an F32 cast", a.grad(), s(2), d(3, 3), 0);
    }
}
