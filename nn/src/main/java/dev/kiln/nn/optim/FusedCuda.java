package dev.kiln.nn.optim;

import dev.kiln.engine.CudaStorage;
import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.kernels.cuda.CudaUpdate;

/**
 * The optimizers' fast path on the GPU: one fused kernel per parameter (optim.cu) over contiguous
 * CUDA F32 tensors, computing the same float expressions as {@link FusedF32}.
 */
final class FusedCuda {
    private FusedCuda() {
    }

    /** Device address of the first element of {@code t} when it is a contiguous CUDA F32 tensor, else 0. */
    static long address(Tensor t) {
        if (t != null && t.dtype() == DType.F32 && t.isContiguous() && t.storage() instanceof CudaStorage s) {
            return s.address(t.offset());
        }
        return 0;
    }

    /** One fused SGD step when w, g (and buf) are contiguous CUDA F32 tensors; false (nothing done) otherwise. */
    static boolean sgd(FusedF32.SgdStep s, Tensor w, Tensor g, Tensor buf) {
        long wa = address(w);
        long ga = address(g);
        long ba = address(buf);
        if (wa == 0 || ga == 0 || (buf != null && ba == 0)) {
            return false;
        }
        CudaUpdate.sgd(((CudaStorage) w.storage()).cuda(), wa, ga, ba, s.lr(), s.weightDecay(), s.momentum(), s.dampening(),
                s.nesterov(), s.first(), w.numel());
        return true;
    }

    /** One fused Adam step when every tensor is a contiguous CUDA F32 tensor; false (nothing done) otherwise. */
    static boolean adam(FusedF32.AdamStep s, Tensor w, Tensor g, Tensor m, Tensor v, Tensor vmax) {
        long wa = address(w);
        long ga = address(g);
        long ma = address(m);
        long va = address(v);
        long xa = address(vmax);
        if (wa == 0 || ga == 0 || ma == 0 || va == 0 || (vmax != null && xa == 0)) {
            return false;
        }
        CudaUpdate.adam(((CudaStorage) w.storage()).cuda(), wa, ga, ma, va, xa, s.beta1(), s.beta2(), s.eps(), s.l2(), s.decay(),
                s.stepSize(), s.bc2Sqrt(), w.numel());
        return true;
    }
}
