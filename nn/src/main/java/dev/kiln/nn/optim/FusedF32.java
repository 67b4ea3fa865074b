package dev.kiln.nn.optim;

import dev.kiln.engine.DType;
import dev.kiln.engine.HeapStorage;
import dev.kiln.engine.Tensor;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The optimizers' fast path: one pass over the heap arrays of contiguous CPU F32 tensors that
 * updates the parameter and its state in place, with no temporaries. Each loop computes, per
 * element and in float, the expressions of the general path built from engine ops (PyTorch's
 * single-tensor implementation); the vector main loop and the scalar tail do the same operations
 * in the same order (no fused multiply-add), so results do not depend on the vector width.
 */
final class FusedF32 {
    private static final VectorSpecies<Float> F = Simd.F;

    private FusedF32() {
    }

    /** The backing array of {@code t} when it is a contiguous CPU F32 tensor, else null. */
    static float[] array(Tensor t) {
        if (t.dtype() == DType.F32 && t.isContiguous() && t.storage() instanceof HeapStorage h) {
            return h.f32();
        }
        return null;
    }

    /** The hyper-parameters of one SGD update; {@code first} marks the step that creates the momentum buffer. */
    record SgdStep(float lr, float weightDecay, float momentum, float dampening, boolean nesterov, boolean first) {
    }

    /**
     * One SGD step over {@code n} elements: {@code d = g + wd*w}; with momentum
     * {@code buf = first ? d : momentum*buf + (1-dampening)*d} and {@code d = nesterov ? d + momentum*buf : buf};
     * then {@code w = w + (-lr)*d}. {@code buf} is null when momentum is 0. Split over the threads
     * for large tensors ({@link Parallel#forElements}: each element on its own, so the same bits).
     */
    static void sgd(SgdStep s, int n, float[] w, int wOff, float[] g, int gOff, float[] buf, int bOff) {
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> sgdRange(s, hi - lo, w, wOff + lo, g, gOff + lo, buf, bOff + lo));
        } else {
            sgdRange(s, n, w, wOff, g, gOff, buf, bOff);
        }
    }

    private static void sgdRange(SgdStep s, int n, float[] w, int wOff, float[] g, int gOff, float[] buf, int bOff) {
        float lr = s.lr();
        float wd = s.weightDecay();
        float mom = s.momentum();
        float keep = 1 - s.dampening();
        boolean nesterov = s.nesterov();
        boolean first = s.first();
        // The vector loops choose by masks made once (blend), not by branches inside the loop: a
        // vector that is one of two values at a merge point must be boxed unless C2 proves otherwise,
        // and whether it did changed with the order of compilation (an SGD step over 871,018
        // parameters ran at 0.8 ms without allocating in some processes, at 2.1 ms allocating
        // 10.5 MB of vector boxes in others). The blends select whole lanes, so the same bits.
        VectorMask<Float> decay = F.maskAll(wd != 0);
        int i = 0;
        int ub = Simd.loopBoundF(n);
        if (buf == null) {
            for (; i < ub; i += F.length()) {
                FloatVector wv = FloatVector.fromArray(F, w, wOff + i);
                FloatVector gv = FloatVector.fromArray(F, g, gOff + i);
                FloatVector d = gv.blend(gv.add(wv.mul(wd)), decay);
                wv.add(d.mul(-lr)).intoArray(w, wOff + i);
            }
        } else {
            VectorMask<Float> isFirst = F.maskAll(first);
            VectorMask<Float> isNesterov = F.maskAll(nesterov);
            for (; i < ub; i += F.length()) {
                FloatVector wv = FloatVector.fromArray(F, w, wOff + i);
                FloatVector gv = FloatVector.fromArray(F, g, gOff + i);
                FloatVector d = gv.blend(gv.add(wv.mul(wd)), decay);
                FloatVector b = FloatVector.fromArray(F, buf, bOff + i).mul(mom).add(d.mul(keep)).blend(d, isFirst);
                b.intoArray(buf, bOff + i);
                d = b.blend(d.add(b.mul(mom)), isNesterov);
                wv.add(d.mul(-lr)).intoArray(w, wOff + i);
            }
        }
        for (; i < n; i++) {
            float wi = w[wOff + i];
            float d = g[gOff + i];
            if (wd != 0) {
                d = d + wi * wd;
            }
            if (buf != null) {
                float b = first ? d : buf[bOff + i] * mom + d * keep;
                buf[bOff + i] = b;
                d = nesterov ? d + b * mom : b;
            }
            w[wOff + i] = wi + d * -lr;
        }
    }

    /**
     * The hyper-parameters of one Adam update: {@code l2} is the coupled weight decay added to the
     * gradient (Adam), {@code decay} the factor {@code 1 - lr*wd} applied to the weight first
     * (AdamW, else 1); {@code stepSize = lr / (1 - beta1^t)}, {@code bc2Sqrt = sqrt(1 - beta2^t)}.
     */
    record AdamStep(float beta1, float beta2, float eps, float l2, float decay, float stepSize, float bc2Sqrt) {
    }

    /**
     * One Adam step over {@code n} elements: {@code w *= decay}, {@code g += l2*w},
     * {@code m = beta1*m + (1-beta1)*g}, {@code v = beta2*v + (1-beta2)*g*g}, with AMSGrad
     * {@code vmax = max(vmax, v)} (null without), then
     * {@code w = w + (-stepSize) * (m / (sqrt(vmax or v)/bc2Sqrt + eps))}. Split over the threads
     * for large tensors, as {@link #sgd}.
     */
    static void adam(AdamStep s, int n, float[] w, int wOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff,
                     float[] vmax, int xOff) {
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> adamRange(s, hi - lo, w, wOff + lo, g, gOff + lo, m, mOff + lo, v, vOff + lo,
                    vmax, xOff + lo));
        } else {
            adamRange(s, n, w, wOff, g, gOff, m, mOff, v, vOff, vmax, xOff);
        }
    }

    private static void adamRange(AdamStep s, int n, float[] w, int wOff, float[] g, int gOff, float[] m, int mOff, float[] v,
                                  int vOff, float[] vmax, int xOff) {
        float b1 = s.beta1();
        float b2 = s.beta2();
        float keep1 = 1 - b1;
        float keep2 = 1 - b2;
        float eps = s.eps();
        float l2 = s.l2();
        float decay = s.decay();
        float step = -s.stepSize();
        float bc2 = s.bc2Sqrt();
        // masks, not branches, inside the vector loops: see sgdRange
        VectorMask<Float> coupled = F.maskAll(l2 != 0);
        int i = 0;
        int ub = Simd.loopBoundF(n);
        if (vmax == null) {
            for (; i < ub; i += F.length()) {
                FloatVector wv = FloatVector.fromArray(F, w, wOff + i).mul(decay);
                FloatVector gv = FloatVector.fromArray(F, g, gOff + i);
                gv = gv.blend(gv.add(wv.mul(l2)), coupled);
                FloatVector mv = FloatVector.fromArray(F, m, mOff + i).mul(b1).add(gv.mul(keep1));
                FloatVector vv = FloatVector.fromArray(F, v, vOff + i).mul(b2).add(gv.mul(gv).mul(keep2));
                mv.intoArray(m, mOff + i);
                vv.intoArray(v, vOff + i);
                FloatVector denom = vv.sqrt().div(bc2).add(eps);
                wv.add(mv.div(denom).mul(step)).intoArray(w, wOff + i);
            }
        } else {
            for (; i < ub; i += F.length()) {
                FloatVector wv = FloatVector.fromArray(F, w, wOff + i).mul(decay);
                FloatVector gv = FloatVector.fromArray(F, g, gOff + i);
                gv = gv.blend(gv.add(wv.mul(l2)), coupled);
                FloatVector mv = FloatVector.fromArray(F, m, mOff + i).mul(b1).add(gv.mul(keep1));
                FloatVector vv = FloatVector.fromArray(F, v, vOff + i).mul(b2).add(gv.mul(gv).mul(keep2));
                mv.intoArray(m, mOff + i);
                vv.intoArray(v, vOff + i);
                FloatVector vm = FloatVector.fromArray(F, vmax, xOff + i).max(vv);
                vm.intoArray(vmax, xOff + i);
                FloatVector denom = vm.sqrt().div(bc2).add(eps);
                wv.add(mv.div(denom).mul(step)).intoArray(w, wOff + i);
            }
        }
        for (; i < n; i++) {
            float wi = w[wOff + i] * decay;
            float gi = g[gOff + i];
            if (l2 != 0) {
                gi = gi + wi * l2;
            }
            float mi = m[mOff + i] * b1 + gi * keep1;
            float vi = v[vOff + i] * b2 + gi * gi * keep2;
            m[mOff + i] = mi;
            v[vOff + i] = vi;
            if (vmax != null) {
                vi = Math.max(vmax[xOff + i], vi);
                vmax[xOff + i] = vi;
            }
            float denom = (float) Math.sqrt(vi) / bc2 + eps;
            w[wOff + i] = wi + mi / denom * step;
        }
    }
}
