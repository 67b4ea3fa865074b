package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static dev.kiln.engine.EngineAsserts.assertValues;
import static dev.kiln.engine.EngineAsserts.d;
import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Shape ops, storage sharing, cat/stack and in-place updates. */
class ViewTest {

    /** [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as F32. */
    private static Tensor m34() {
        return Tensors.arange(DType.F32, 0, 12, 1).reshape(3, 4);
    }

    @Test
    void reshapeWithInferredDim() {
        Tensor x = Tensors.arange(DType.F32, 0, 6, 1);
        Tensor r = x.reshape(2, -1);
        assertArrayEquals(s(2, 3), r.shape());
        assertArrayEquals(s(3, 1), r.strides());
        assertSame(x.storage(), r.storage(), "reshape of a contiguous tensor is a view");
        assertArrayEquals(s(3, 2), x.reshape(-1, 2).shape());
        assertArrayEquals(s(6), r.view(-1).shape());
        assertArrayEquals(new int[0], Tensors.ones(1, 1).reshape().shape());
        assertValues("reshape(3, 2)", x.reshape(3, 2), s(3, 2), d(0, 1, 2, 3, 4, 5), 0);
    }

    @Test
    void reshapeErrors() {
        Tensor x = Tensors.zeros(2, 3);
        assertThrowsWith(IllegalArgumentException.class, () -> x.reshape(4, 2), "reshape", "[4, 2]", "8", "6");
        assertThrowsWith(IllegalArgumentException.class, () -> x.reshape(4, -1), "reshape", "[4, -1]", "6");
        assertThrowsWith(IllegalArgumentException.class, () -> x.reshape(-1, -1), "only one dim can be -1");
    }

    @Test
    void reshapeOfANonContiguousTensorCopies() {
        Tensor t = m34().t();
        Tensor r = t.reshape(12);
        assertValues("reshape of a transposed view", r, s(12), d(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11), 0);
    }

    @Test
    void writingThroughAViewIsVisible() {
        Tensor x = Tensors.zeros(2, 3);
        Tensor v = x.view(6);
        v.narrow(0, 4, 1).fill(7);
        assertEquals(7.0, x.getDouble(1, 1));
        Tensor row = x.select(0, 0);
        row.fill(2);
        assertValues("after filling row 0 through select", x, s(2, 3), d(2, 2, 2, 0, 7, 0), 0);
        Tensor tt = x.t();
        tt.narrow(0, 2, 1).fill(-1);
        assertValues("after filling column 2 through t()", x, s(2, 3), d(2, 2, -1, 0, 7, -1), 0);
    }

    @Test
    void permuteTransposeAndT() {
        Tensor x = Tensors.arange(DType.F32, 0, 24, 1).reshape(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertArrayEquals(s(4, 2, 3), p.shape());
        assertArrayEquals(s(1, 12, 4), p.strides());
        assertSame(x.storage(), p.storage());
        assertFalse(p.isContiguous());
        assertEquals(x.getDouble(1, 2, 3), p.getDouble(3, 1, 2));
        Tensor tr = x.transpose(0, -1);
        assertArrayEquals(s(4, 3, 2), tr.shape());
        assertEquals(x.getDouble(1, 0, 2), tr.getDouble(2, 0, 1));
        Tensor m = m34();
        assertValues("t()", m.t(), s(4, 3), d(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11), 0);
        assertTrue(m.t().t().isContiguous());
        assertThrowsWith(IllegalArgumentException.class, () -> x.t(), "t", "2-D", "[2, 3, 4]");
        assertThrowsWith(IllegalArgumentException.class, () -> x.permute(0, 1), "permute", "3 dims");
        assertThrowsWith(IllegalArgumentException.class, () -> x.permute(0, 1, 1), "repeated");
        assertThrowsWith(IllegalArgumentException.class, () -> x.transpose(0, 3), "dim out of range", "3");
    }

    @Test
    void narrowAndSelect() {
        Tensor m = m34();
        Tensor n = m.narrow(1, 1, 2);
        assertArrayEquals(s(3, 2), n.shape());
        assertEquals(1, n.offset());
        assertSame(m.storage(), n.storage());
        assertValues("narrow(1, 1, 2)", n, s(3, 2), d(1, 2, 5, 6, 9, 10), 0);
        assertValues("select(0, 1)", m.select(0, 1), s(4), d(4, 5, 6, 7), 0);
        assertValues("select(1, -1)", m.select(1, -1), s(3), d(3, 7, 11), 0);
        assertValues("narrow of a narrow", n.narrow(0, 1, 2).select(1, 1), s(2), d(6, 10), 0);
        assertThrowsWith(IndexOutOfBoundsException.class, () -> m.narrow(1, 3, 2), "narrow", "[3, 5)", "size 4");
        assertThrowsWith(IndexOutOfBoundsException.class, () -> m.select(0, 3), "select", "3", "size 3");
    }

    @Test
    void selectOfAColumnIsAView() {
        Tensor m = m34();
        Tensor col = m.select(1, 2);
        assertSame(m.storage(), col.storage(), "select shares storage whatever the dim");
        col.fill(0);
        assertValues("after zeroing column 2", m.select(1, 2), s(3), d(0, 0, 0), 0);
    }

    @Test
    void expandUsesStrideZeroAndContiguousMaterializes() {
        Tensor col = Tensors.of(new float[] {1, 2, 3}, 3, 1);
        Tensor e = col.expand(2, 3, 4);
        assertArrayEquals(s(2, 3, 4), e.shape());
        assertArrayEquals(s(0, 1, 0), e.strides());
        assertSame(col.storage(), e.storage());
        assertFalse(e.isContiguous());
        Tensor c = e.contiguous();
        assertTrue(c.isContiguous());
        assertNotSame(col.storage(), c.storage());
        assertEquals(24, c.storage().length());
        assertValues("expand(2,3,4)[1]", c.select(0, 1), s(3, 4), d(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), 0);
        assertArrayEquals(s(3, 5), col.expand(-1, 5).shape());
        assertSame(col, col.expand(3, 1), "expanding to the same shape is the tensor itself");
        assertThrowsWith(IllegalArgumentException.class, () -> col.expand(4, 2), "expand", "[3, 1]", "[4, 2]");
        assertThrowsWith(IllegalArgumentException.class, () -> col.expand(2), "expand", "fewer dims");
    }

    @Test
    void contiguousOfAContiguousTensorIsItself() {
        Tensor m = m34();
        assertSame(m, m.contiguous());
        assertNotSame(m.storage(), m.copy().storage(), "copy() always copies");
    }

    @Test
    void squeezeAndUnsqueeze() {
        Tensor x = Tensors.zeros(1, 3, 1, 2);
        assertArrayEquals(s(3, 2), x.squeeze().shape());
        assertArrayEquals(s(3, 1, 2), x.squeeze(0).shape());
        assertArrayEquals(s(1, 3, 2), x.squeeze(-2).shape());
        assertArrayEquals(s(1, 3, 1, 2), x.squeeze(1).shape(), "squeezing a dim that is not 1 does nothing");
        Tensor y = Tensors.zeros(3, 2);
        assertArrayEquals(s(1, 3, 2), y.unsqueeze(0).shape());
        assertArrayEquals(s(3, 2, 1), y.unsqueeze(-1).shape());
        assertArrayEquals(s(3, 1, 2), y.unsqueeze(1).shape());
        assertSame(y.storage(), y.unsqueeze(1).storage());
        Tensor t = m34().t();
        Tensor u = t.unsqueeze(0);
        assertSame(t.storage(), u.storage(), "unsqueeze of a transposed view is a view");
        assertValues("unsqueeze(0) of t()", u, s(1, 4, 3), d(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11), 0);
        assertValues("squeeze of a strided view", m34().narrow(1, 1, 1).squeeze(), s(3), d(1, 5, 9), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> y.unsqueeze(3), "unsqueeze", "dim out of range");
    }

    @Test
    void flatten() {
        Tensor x = Tensors.zeros(2, 3, 4, 5);
        assertArrayEquals(s(2, 60), x.flatten(1, -1).shape());
        assertArrayEquals(s(6, 4, 5), x.flatten(0, 1).shape());
        assertArrayEquals(s(120), x.flatten(0, -1).shape());
        assertArrayEquals(s(2, 3, 4, 5), x.flatten(2, 2).shape());
        assertArrayEquals(s(1), Tensors.scalar(2).flatten(0, -1).shape());
        assertThrowsWith(IllegalArgumentException.class, () -> x.flatten(2, 1), "flatten", "startDim <= endDim");
    }

    @Test
    void isContiguousIgnoresSizeOneDims() {
        assertTrue(Tensors.zeros(3, 1).t().isContiguous(), "a [1, 3] transpose of [3, 1] is dense");
        assertFalse(m34().narrow(1, 0, 2).isContiguous());
        assertTrue(m34().narrow(0, 1, 2).isContiguous(), "a narrow of rows stays contiguous (with an offset)");
    }

    @Test
    void catAndStack() {
        Tensor a = Tensors.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensors.of(new float[] {5, 6}, 1, 2);
        assertValues("cat dim 0", Functional.cat(0, a, b), s(3, 2), d(1, 2, 3, 4, 5, 6), 0);
        Tensor c = Tensors.of(new float[] {7, 8}, 2, 1);
        assertValues("cat dim -1", Functional.cat(-1, a, c), s(2, 3), d(1, 2, 7, 3, 4, 8), 0);
        assertValues("cat of a transposed view", Functional.cat(0, a.t(), b), s(3, 2), d(1, 3, 2, 4, 5, 6), 0);
        Tensor x = Tensors.of(new float[] {1, 2}, 2);
        Tensor y = Tensors.of(new float[] {3, 4}, 2);
        assertValues("stack dim 0", Functional.stack(0, x, y), s(2, 2), d(1, 2, 3, 4), 0);
        assertValues("stack dim 1", Functional.stack(1, x, y), s(2, 2), d(1, 3, 2, 4), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.cat(0, a, c), "cat", "[2, 2]", "[2, 1]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.stack(0, x, b), "stack", "[2]", "[1, 2]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.cat(0, a, a.to(DType.F64)), "cat", "F32", "F64");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.cat(0), "cat", "at least one");
    }

    @Test
    void copyFromIntoANarrowView() {
        Tensor m = Tensors.zeros(3, 4);
        m.narrow(1, 1, 2).copyFrom(Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2));
        assertValues("after copyFrom into columns 1..2", m, s(3, 4), d(0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0), 0);
        m.narrow(0, 2, 1).copyFrom(Tensors.of(new double[] {9, 8, 7, 6}, 4));
        assertValues("after a broadcast F64 -> F32 copy into row 2", m.select(0, 2), s(4), d(9, 8, 7, 6), 0);
        m.select(1, 3).copyFrom(Tensors.scalar(-1));
        assertValues("after a scalar copy into column 3", m.select(1, 3), s(3), d(-1, -1, -1), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> m.copyFrom(Tensors.zeros(2, 4)), "copyFrom", "[2, 4]", "[3, 4]");
    }

    @Test
    void inPlaceOps() {
        Tensor x = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        x.addInPlace(Tensors.of(new float[] {10, 20, 30}, 3));
        assertValues("addInPlace broadcast", x, s(2, 3), d(11, 22, 33, 14, 25, 36), 0);
        x.mulInPlace(0.5);
        assertValues("mulInPlace", x, s(2, 3), d(5.5, 11, 16.5, 7, 12.5, 18), 0);
        x.addInPlace(Tensors.ones(2, 3), -2);
        assertValues("addInPlace alpha", x, s(2, 3), d(3.5, 9, 14.5, 5, 10.5, 16), 0);
        x.narrow(1, 0, 1).fill(0);
        assertValues("fill of a column", x, s(2, 3), d(0, 9, 14.5, 0, 10.5, 16), 0);
        Tensor dd = Tensors.zeros(DType.F64, 2, 2);
        dd.t().addInPlace(Tensors.of(new double[] {1, 2, 3, 4}, 2, 2));
        assertValues("addInPlace into a transposed F64 view", dd, s(2, 2), d(1, 3, 2, 4), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> x.addInPlace(Tensors.ones(4)), "addInPlace", "[4]", "[2, 3]");
        assertThrowsWith(IllegalArgumentException.class, () -> x.addInPlace(Tensors.ones(1, 2, 3)), "addInPlace", "[1, 2, 3]", "[2, 3]");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.arange(3).mulInPlace(2), "mulInPlace", "I64");
        assertArrayEquals(new long[] {7, 7, 7}, Tensors.zeros(DType.I64, 3).fill(7).toLongArray(), "fill of an I64 tensor");
    }

    @Test
    void inPlaceOnATensorThatRequiresGradWhileRecordingFails() {
        Tensor w = Tensors.zeros(DType.F64, 3).requiresGrad(true);
        assertThrowsWith(IllegalStateException.class, () -> w.fill(1), "fill", "requires grad", "Grad.disabled()");
        assertThrowsWith(IllegalStateException.class, () -> w.mulInPlace(2), "mulInPlace", "requires grad");
        assertThrowsWith(IllegalStateException.class, () -> w.addInPlace(Tensors.ones(DType.F64, 3)), "addInPlace");
        assertThrowsWith(IllegalStateException.class, () -> w.copyFrom(Tensors.ones(DType.F64, 3)), "copyFrom");
        try (var ng = Grad.disabled()) {
            w.fill(1).addInPlace(Tensors.ones(DType.F64, 3), 2);
        }
        assertValues("in-place update inside Grad.disabled()", w, s(3), d(3, 3, 3), 0);
    }
}
