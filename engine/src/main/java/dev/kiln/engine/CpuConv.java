package dev.kiln.engine;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.cpu.Conv;
import dev.kiln.kernels.cpu.Pool;
import dev.kiln.kernels.ref.RefConv;
import dev.kiln.kernels.ref.RefPool;

/** CPU convolution and pooling: dense NCHW buffers handed to the kernels. */
final class CpuConv {
    private CpuConv() {
    }

    private static Tensor zeros(DType dt, int... shape) {
        return CpuBackend.INSTANCE.zeros(dt, shape);
    }

    private static boolean isF32(Tensor t) {
        return t.dtype() == DType.F32;
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeom g) {
        Tensor xd = CpuBackend.dense(x);
        Tensor wd = CpuBackend.dense(w);
        Tensor bd = bias == null ? null : CpuBackend.dense(bias);
        Tensor y = zeros(x.dtype(), g.n(), g.oc(), g.oh(), g.ow());
        if (isF32(x)) {
            Conv.conv2d(CpuBackend.f32(y), CpuBackend.f32(xd), CpuBackend.f32(wd), bd == null ? null : CpuBackend.f32(bd), g);
        } else {
            RefConv.conv2d(CpuBackend.f64(y), CpuBackend.f64(xd), CpuBackend.f64(wd), bd == null ? null : CpuBackend.f64(bd), g);
        }
        return y;
    }

    static Tensor backwardInput(Tensor gy, Tensor w, ConvGeom g) {
        Tensor gyd = CpuBackend.dense(gy);
        Tensor wd = CpuBackend.dense(w);
        Tensor gx = zeros(gy.dtype(), g.n(), g.c(), g.h(), g.w());
        if (isF32(gy)) {
            Conv.conv2dBackwardInput(CpuBackend.f32(gx), CpuBackend.f32(gyd), CpuBackend.f32(wd), g);
        } else {
            RefConv.conv2dBackwardInput(CpuBackend.f64(gx), CpuBackend.f64(gyd), CpuBackend.f64(wd), g);
        }
        return gx;
    }

    /**
     * See {@link Backend#conv2dBackwardInputAccumulate}: F32 only, into a contiguous heap {@code gx} of the
     * input's shape from offset 0 that shares no array with {@code gy} or {@code w}.
     */
    static boolean backwardInputAccumulate(Tensor gx, Tensor gy, Tensor w, ConvGeom g) {
        if (!isF32(gx) || !isF32(gy) || !isF32(w) || !gx.isContiguous() || gx.offset() != 0
                || !(gx.storage() instanceof HeapStorage hx) || hx.f32().length != g.xSize()) {
            return false;
        }
        Tensor gyd = CpuBackend.dense(gy);
        Tensor wd = CpuBackend.dense(w);
        float[] gxa = hx.f32();
        if (gxa == CpuBackend.f32(gyd) || gxa == CpuBackend.f32(wd)) {
            return false;
        }
        Conv.conv2dBackwardInput(true, gxa, CpuBackend.f32(gyd), CpuBackend.f32(wd), g);
        return true;
    }

    static Tensor[] backwardWeight(Tensor x, Tensor gy, ConvGeom g, boolean withBias) {
        Tensor xd = CpuBackend.dense(x);
        Tensor gyd = CpuBackend.dense(gy);
        Tensor gw = zeros(x.dtype(), g.oc(), g.c() / g.groups(), g.kh(), g.kw());
        Tensor gb = withBias ? zeros(x.dtype(), g.oc()) : null;
        if (isF32(x)) {
            Conv.conv2dBackwardWeight(CpuBackend.f32(gw), gb == null ? null : CpuBackend.f32(gb), CpuBackend.f32(xd), CpuBackend.f32(gyd), g);
        } else {
            RefConv.conv2dBackwardWeight(CpuBackend.f64(gw), gb == null ? null : CpuBackend.f64(gb), CpuBackend.f64(xd), CpuBackend.f64(gyd), g);
        }
        return new Tensor[] {gw, gb};
    }

    static Tensor[] maxPool2d(Tensor x, Backend.PoolGeom p) {
        Tensor xd = CpuBackend.dense(x);
        int[] s = xd.shapeRef();
        int planes = s[0] * s[1];
        Tensor y = zeros(x.dtype(), s[0], s[1], p.oh(), p.ow());
        Tensor idx = zeros(DType.I32, s[0], s[1], p.oh(), p.ow());
        int[] ia = CpuBackend.heap(idx).i32();
        if (isF32(x)) {
            Pool.maxPool2d(CpuBackend.f32(y), ia, CpuBackend.f32(xd), planes, s[2], s[3], p.kh(), p.kw(), p.sh(), p.sw(),
                    p.ph(), p.pw(), p.dh(), p.dw(), p.oh(), p.ow());
        } else {
            RefPool.maxPool2d(CpuBackend.f64(y), ia, CpuBackend.f64(xd), planes, s[2], s[3], p.kh(), p.kw(), p.sh(), p.sw(),
                    p.ph(), p.pw(), p.dh(), p.dw(), p.oh(), p.ow());
        }
        return new Tensor[] {y, idx};
    }

    static Tensor maxPool2dBackward(Tensor gy, Tensor argmax, int[] in) {
        Tensor gyd = CpuBackend.dense(gy);
        int[] ia = CpuBackend.heap(CpuBackend.dense(argmax)).i32();
        Tensor gx = zeros(gy.dtype(), in);
        int planes = in[0] * in[1];
        int[] os = gyd.shapeRef();
        if (isF32(gy)) {
            Pool.maxPool2dBackward(CpuBackend.f32(gx), CpuBackend.f32(gyd), ia, planes, in[2], in[3], os[2], os[3]);
        } else {
            RefPool.maxPool2dBackward(CpuBackend.f64(gx), CpuBackend.f64(gyd), ia, planes, in[2], in[3], os[2], os[3]);
        }
        return gx;
    }

    static Tensor avgPool2d(Tensor x, Backend.PoolGeom p, boolean countIncludePad) {
        Tensor xd = CpuBackend.dense(x);
        int[] s = xd.shapeRef();
        Tensor y = zeros(x.dtype(), s[0], s[1], p.oh(), p.ow());
        if (isF32(x)) {
            Pool.avgPool2d(CpuBackend.f32(y), CpuBackend.f32(xd), s[0] * s[1], s[2], s[3], p.kh(), p.kw(), p.sh(), p.sw(),
                    p.ph(), p.pw(), p.oh(), p.ow(), countIncludePad);
        } else {
            RefPool.avgPool2d(CpuBackend.f64(y), CpuBackend.f64(xd), s[0] * s[1], s[2], s[3], p.kh(), p.kw(), p.sh(), p.sw(),
                    p.ph(), p.pw(), p.oh(), p.ow(), countIncludePad);
        }
        return y;
    }

    static Tensor avgPool2dBackward(Tensor gy, int[] in, Backend.PoolGeom p, boolean countIncludePad) {
        Tensor gyd = CpuBackend.dense(gy);
        Tensor gx = zeros(gy.dtype(), in);
        if (isF32(gy)) {
            Pool.avgPool2dBackward(CpuBackend.f32(gx), CpuBackend.f32(gyd), in[0] * in[1], in[2], in[3], p.kh(), p.kw(),
                    p.sh(), p.sw(), p.ph(), p.pw(), p.oh(), p.ow(), countIncludePad);
        } else {
            RefPool.avgPool2dBackward(CpuBackend.f64(gx), CpuBackend.f64(gyd), in[0] * in[1], in[2], in[3], p.kh(), p.kw(),
                    p.sh(), p.sw(), p.ph(), p.pw(), p.oh(), p.ow(), countIncludePad);
        }
        return gx;
    }

    static Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        Tensor xd = CpuBackend.dense(x);
        int[] s = xd.shapeRef();
        Tensor y = zeros(x.dtype(), s[0], s[1], oh, ow);
        if (isF32(x)) {
            Pool.adaptiveAvgPool2d(CpuBackend.f32(y), CpuBackend.f32(xd), s[0] * s[1], s[2], s[3], oh, ow);
        } else {
            RefPool.adaptiveAvgPool2d(CpuBackend.f64(y), CpuBackend.f64(xd), s[0] * s[1], s[2], s[3], oh, ow);
        }
        return y;
    }

    static Tensor adaptiveAvgPool2dBackward(Tensor gy, int[] in) {
        Tensor gyd = CpuBackend.dense(gy);
        int[] os = gyd.shapeRef();
        Tensor gx = zeros(gy.dtype(), in);
        if (isF32(gy)) {
            Pool.adaptiveAvgPool2dBackward(CpuBackend.f32(gx), CpuBackend.f32(gyd), in[0] * in[1], in[2], in[3], os[2], os[3]);
        } else {
            RefPool.adaptiveAvgPool2dBackward(CpuBackend.f64(gx), CpuBackend.f64(gyd), in[0] * in[1], in[2], in[3], os[2], os[3]);
        }
        return gx;
    }
}
