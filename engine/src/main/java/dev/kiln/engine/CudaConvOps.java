package dev.kiln.engine;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.cuda.CudaBlas;
import dev.kiln.kernels.cuda.CudaConv;

/**
 * Convolution and pooling of the CUDA backend. A convolution is lowered per chunk of images (the
 * column buffer stays under {@link #COL_BYTES}) and per group: im2col, then one batched GEMM over
 * the chunk's images writing straight into the NCHW output with the bias fused (per output row).
 * Backward: the input gradient is W^T x gy per image then col2im; the weight gradient is
 * gy [oc, images*oh*ow] x col^T accumulated over chunks, the bias gradient a per-channel sum.
 */
final class CudaConvOps {
    /** Column buffer limit per chunk (bytes). */
    static final long COL_BYTES = 256L << 20;

    private CudaConvOps() {
    }

    private static long p(Tensor t) {
        return CudaBackend.ptr(t);
    }

    static Tensor conv2d(CudaBackend be, Tensor x, Tensor w, Tensor bias, ConvGeom g) {
        CudaBackend.requireF32("conv2d", x);
        Tensor xd = be.packed(x);
        Tensor wd = be.packed(w);
        Tensor bd = bias == null ? null : be.packed(bias);
        int cg = g.c() / g.groups(), ocg = g.oc() / g.groups();
        int kk = cg * g.kh() * g.kw(), ohw = g.oh() * g.ow();
        Tensor y = be.empty(DType.F32, new int[] {g.n(), g.oc(), g.oh(), g.ow()});
        int chunk = CudaConv.imagesPerChunk(g, COL_BYTES);
        Tensor col = be.empty(DType.F32, new int[] {kk, chunk * ohw});
        for (int n0 = 0; n0 < g.n(); n0 += chunk) {
            int nb = Math.min(chunk, g.n() - n0);
            for (int gr = 0; gr < g.groups(); gr++) {
                CudaConv.im2col(be.cuda, p(col), p(xd), g, n0, nb, gr * cg, cg);
                long out = p(y) + 4L * ((long) n0 * g.oc() + (long) gr * ocg) * ohw;
                CudaBlas.gemm(be.cuda, CudaNn.MATMUL, out, p(wd) + 4L * gr * ocg * kk, p(col),
                        bd == null ? 0 : p(bd) + 4L * gr * ocg, bd == null ? CudaBlas.Bias.NONE : CudaBlas.Bias.PER_ROW, false,
                        new CudaBlas.GemmShape(ocg, ohw, kk, false, false, kk, nb * ohw, ohw, nb, 0, ohw, (long) g.oc() * ohw));
            }
        }
        return y;
    }

    static Tensor backwardInput(CudaBackend be, Tensor gy, Tensor w, ConvGeom g) {
        Tensor gyd = be.packed(gy);
        Tensor wd = be.packed(w);
        int cg = g.c() / g.groups(), ocg = g.oc() / g.groups();
        int kk = cg * g.kh() * g.kw(), ohw = g.oh() * g.ow();
        Tensor gx = be.empty(DType.F32, new int[] {g.n(), g.c(), g.h(), g.w()});
        int chunk = CudaConv.imagesPerChunk(g, COL_BYTES);
        Tensor col = be.empty(DType.F32, new int[] {kk, chunk * ohw});
        for (int n0 = 0; n0 < g.n(); n0 += chunk) {
            int nb = Math.min(chunk, g.n() - n0);
            for (int gr = 0; gr < g.groups(); gr++) {
                long gyp = p(gyd) + 4L * ((long) n0 * g.oc() + (long) gr * ocg) * ohw;
                CudaBlas.gemm(be.cuda, CudaNn.MATMUL, p(col), p(wd) + 4L * gr * ocg * kk, gyp, 0, CudaBlas.Bias.NONE, false,
                        new CudaBlas.GemmShape(kk, ohw, ocg, true, false, kk, ohw, nb * ohw, nb, 0, (long) g.oc() * ohw, ohw));
                CudaConv.col2im(be.cuda, p(gx), p(col), g, n0, nb, gr * cg, cg);
            }
        }
        return gx;
    }

    static Tensor[] backwardWeight(CudaBackend be, Tensor x, Tensor gy, ConvGeom g, boolean withBias) {
        Tensor xd = be.packed(x);
        Tensor gyd = be.packed(gy);
        int cg = g.c() / g.groups(), ocg = g.oc() / g.groups();
        int kk = cg * g.kh() * g.kw(), ohw = g.oh() * g.ow();
        Tensor gw = be.zeros(DType.F32, new int[] {g.oc(), cg, g.kh(), g.kw()});
        int chunk = CudaConv.imagesPerChunk(g, COL_BYTES / 2);
        Tensor col = be.empty(DType.F32, new int[] {kk, chunk * ohw});
        Tensor gyt = be.empty(DType.F32, new int[] {ocg, chunk * ohw});
        for (int n0 = 0; n0 < g.n(); n0 += chunk) {
            int nb = Math.min(chunk, g.n() - n0);
            for (int gr = 0; gr < g.groups(); gr++) {
                CudaConv.im2col(be.cuda, p(col), p(xd), g, n0, nb, gr * cg, cg);
                CudaConv.nchwToCn(be.cuda, p(gyt), p(gyd), n0, nb, g.oc(), gr * ocg, ocg, ohw);
                CudaBlas.gemm(be.cuda, CudaNn.MATMUL, p(gw) + 4L * gr * ocg * kk, p(gyt), p(col), 0, CudaBlas.Bias.NONE, true,
                        new CudaBlas.GemmShape(ocg, kk, nb * ohw, false, true, nb * ohw, nb * ohw, kk, 1, 0, 0, 0));
            }
        }
        Tensor gb = null;
        if (withBias) {
            gb = be.empty(DType.F32, new int[] {g.oc()});
            CudaConv.biasGrad(be.cuda, p(gb), p(gyd), g.n(), g.oc(), ohw);
        }
        return new Tensor[] {gw, gb};
    }

    private static CudaConv.PoolShape shape(int[] s, Backend.PoolGeom p) {
        return new CudaConv.PoolShape(s[2], s[3], p.kh(), p.kw(), p.sh(), p.sw(), p.ph(), p.pw(), p.dh(), p.dw(), p.oh(), p.ow());
    }

    static Tensor[] maxPool2d(CudaBackend be, Tensor x, Backend.PoolGeom p) {
        CudaBackend.requireF32("maxPool2d", x);
        Tensor xd = be.packed(x);
        int[] s = xd.shapeRef();
        Tensor y = be.empty(DType.F32, new int[] {s[0], s[1], p.oh(), p.ow()});
        Tensor idx = be.empty(DType.I32, new int[] {s[0], s[1], p.oh(), p.ow()});
        CudaConv.maxPool(be.cuda, p(y), p(idx), p(xd), shape(s, p), s[0] * s[1]);
        return new Tensor[] {y, idx};
    }

    static Tensor maxPool2dBackward(CudaBackend be, Tensor gy, Tensor argmax, int[] in) {
        Tensor gyd = be.packed(gy);
        Tensor ad = be.packed(argmax);
        Tensor gx = be.zeros(DType.F32, in);
        int[] os = gyd.shapeRef();
        CudaConv.maxPoolBackward(be.cuda, p(gx), p(gyd), p(ad), in[0] * in[1], in[2] * in[3], os[2] * os[3]);
        return gx;
    }

    static Tensor avgPool2d(CudaBackend be, Tensor x, Backend.PoolGeom p, boolean countIncludePad) {
        CudaBackend.requireF32("avgPool2d", x);
        Tensor xd = be.packed(x);
        int[] s = xd.shapeRef();
        Tensor y = be.empty(DType.F32, new int[] {s[0], s[1], p.oh(), p.ow()});
        CudaConv.avgPool(be.cuda, p(y), p(xd), shape(s, p), s[0] * s[1], countIncludePad);
        return y;
    }

    static Tensor avgPool2dBackward(CudaBackend be, Tensor gy, int[] in, Backend.PoolGeom p, boolean countIncludePad) {
        Tensor gyd = be.packed(gy);
        Tensor gx = be.empty(DType.F32, in);
        CudaConv.avgPoolBackward(be.cuda, p(gx), p(gyd), shape(in, p), in[0] * in[1], countIncludePad);
        return gx;
    }

    static Tensor adaptiveAvgPool2d(CudaBackend be, Tensor x, int oh, int ow) {
        CudaBackend.requireF32("adaptiveAvgPool2d", x);
        Tensor xd = be.packed(x);
        int[] s = xd.shapeRef();
        Tensor y = be.empty(DType.F32, new int[] {s[0], s[1], oh, ow});
        CudaConv.adaptiveAvgPool(be.cuda, p(y), p(xd), s[0] * s[1], s[2], s[3], oh, ow);
        return y;
    }

    static Tensor adaptiveAvgPool2dBackward(CudaBackend be, Tensor gy, int[] in) {
        Tensor gyd = be.packed(gy);
        int[] os = gyd.shapeRef();
        Tensor gx = be.empty(DType.F32, in);
        CudaConv.adaptiveAvgPoolBackward(be.cuda, p(gx), p(gyd), in[0] * in[1], in[2], in[3], os[2], os[3]);
        return gx;
    }
}
