package dev.kiln.engine;

import dev.kiln.kernels.cpu.Softmax;
import dev.kiln.kernels.ref.RefSoftmax;

/** CPU side of the fused losses: contiguous views in, kernel calls (F32) or double references (F64). */
final class CpuLoss {
    private CpuLoss() {
    }

    private static Tensor contiguous(Tensor t) {
        return t.isContiguous() ? t : CpuBackend.INSTANCE.contiguous(t);
    }

    /** {loss [M], stats [M, 2]} of logits {@code x [M, C]} against class indices {@code t} (length M). */
    static Tensor[] crossEntropy(Tensor x, long[] t) {
        Tensor c = contiguous(x);
        int rows = c.size(0);
        int n = c.size(1);
        Tensor loss = CpuBackend.INSTANCE.zeros(c.dtype(), new int[] {rows});
        Tensor stats = CpuBackend.INSTANCE.zeros(c.dtype(), new int[] {rows, 2});
        if (c.dtype() == DType.F32) {
            Softmax.crossEntropy(CpuBackend.f32(loss), 0, CpuBackend.f32(stats), 0, CpuBackend.f32(c), c.offset(), t, 0,
                    rows, n);
        } else {
            RefSoftmax.crossEntropy(CpuBackend.f64(loss), 0, CpuBackend.f64(stats), 0, CpuBackend.f64(c), c.offset(), t, 0,
                    rows, n);
        }
        return new Tensor[] {loss, stats};
    }

    /** Gradient of {@link #crossEntropy} given the loss gradient {@code g [M]}. */
    static Tensor crossEntropyBackward(Tensor x, Tensor stats, long[] t, Tensor g) {
        Tensor c = contiguous(x);
        Tensor gc = contiguous(g.dtype() == c.dtype() ? g : g.to(c.dtype()));
        int rows = c.size(0);
        int n = c.size(1);
        Tensor gx = CpuBackend.INSTANCE.zeros(c.dtype(), new int[] {rows, n});
        if (c.dtype() == DType.F32) {
            Softmax.crossEntropyBackward(CpuBackend.f32(gx), 0, CpuBackend.f32(c), c.offset(), CpuBackend.f32(stats), 0, t,
                    0, CpuBackend.f32(gc), gc.offset(), rows, n);
        } else {
            RefSoftmax.crossEntropyBackward(CpuBackend.f64(gx), 0, CpuBackend.f64(c), c.offset(), CpuBackend.f64(stats), 0,
                    t, 0, CpuBackend.f64(gc), gc.offset(), rows, n);
        }
        return gx;
    }
}
