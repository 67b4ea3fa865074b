package dev.kiln.kernels.cuda;

import dev.kiln.kernels.ConvGeom;

/**
 * Convolution and pooling on the GPU (conv.cu, pool.cu), NCHW, device addresses. A convolution is
 * lowered per chunk of images and per group: im2col into a [c/g*kh*kw, images*oh*ow] buffer, then
 * GEMMs ({@link CudaBlas}); the backward passes use the transposed products and col2im (a gather,
 * so the input gradient has a fixed summation order).
 */
public final class CudaConv {
    private static final int THREADS = 256;

    private CudaConv() {
    }

    /** The ConvShape struct (conv.cu): C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW. */
    static int[] shape(ConvGeom g) {
        return new int[] {g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(), g.oh(), g.ow()};
    }

    /** Images per chunk so that the column buffer stays within {@code maxColBytes}. */
    public static int imagesPerChunk(ConvGeom g, long maxColBytes) {
        long perImage = 4L * (g.c() / g.groups()) * g.kh() * g.kw() * g.oh() * g.ow();
        return (int) Math.max(1, Math.min(g.n(), maxColBytes / Math.max(1, perImage)));
    }

    /** col [cg*kh*kw, nb*oh*ow] = im2col of images n0..n0+nb-1, channels c0..c0+cg-1 of x. */
    public static void im2col(CudaDevice d, long col, long x, ConvGeom g, int n0, int nb, int c0, int cg) {
        long n = (long) cg * g.kh() * g.kw() * nb * g.oh() * g.ow();
        Launch.of(d, "conv", "kiln_im2col").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(col).ptr(x).struct(shape(g)).i32(n0).i32(nb).i32(c0).i32(cg).run();
    }

    /** gx[images n0.., channels c0..c0+cg-1] = col2im(col) (written, not accumulated). */
    public static void col2im(CudaDevice d, long gx, long col, ConvGeom g, int n0, int nb, int c0, int cg) {
        long n = (long) nb * cg * g.h() * g.w();
        Launch.of(d, "conv", "kiln_col2im").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(gx).ptr(col).struct(shape(g)).i32(n0).i32(nb).i32(c0).i32(cg).run();
    }

    /** out [ocg, nb*hw] = y[n0..n0+nb-1, oc0..oc0+ocg-1, :] for y [N, oc, hw]. */
    public static void nchwToCn(CudaDevice d, long out, long y, int n0, int nb, int oc, int oc0, int ocg, int hw) {
        long n = (long) ocg * nb * hw;
        Launch.of(d, "conv", "kiln_nchw_to_cn").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(out).ptr(y).i32(n0).i32(nb).i32(oc).i32(oc0).i32(ocg).i32(hw).run();
    }

    /** gb[oc] = sum over images and positions of gy [n, oc, hw]. */
    public static void biasGrad(CudaDevice d, long gb, long gy, int n, int oc, int hw) {
        Launch.of(d, "conv", "kiln_bias_grad").grid(Math.min(oc, 65535)).block(THREADS).ptr(gb).ptr(gy).i32(n).i32(oc).i32(hw).run();
    }

    /** Pooling window over [planes, h, w]: kernel, stride, padding, dilation and output size. */
    public record PoolShape(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        int[] fields() {
            return new int[] {h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow};
        }
    }

    /** y = max over each window, arg = flat in-plane index of the (first) maximum (int32). */
    public static void maxPool(CudaDevice d, long y, long arg, long x, PoolShape s, int planes) {
        long n = (long) planes * s.oh() * s.ow();
        Launch.of(d, "pool", "kiln_maxpool").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(y).ptr(arg).ptr(x).struct(s.fields()).i32(planes).run();
    }

    /** gx (zero-filled by the caller) += gy at each window's argmax (atomicAdd). */
    public static void maxPoolBackward(CudaDevice d, long gx, long gy, long arg, int planes, int hw, int ohw) {
        long n = (long) planes * ohw;
        Launch.of(d, "pool", "kiln_maxpool_bwd").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(gx).ptr(gy).ptr(arg).i32(planes).i32(hw).i32(ohw).run();
    }

    public static void avgPool(CudaDevice d, long y, long x, PoolShape s, int planes, boolean countIncludePad) {
        long n = (long) planes * s.oh() * s.ow();
        Launch.of(d, "pool", "kiln_avgpool").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(y).ptr(x).struct(s.fields()).i32(planes).i32(countIncludePad ? 1 : 0).run();
    }

    public static void avgPoolBackward(CudaDevice d, long gx, long gy, PoolShape s, int planes, boolean countIncludePad) {
        long n = (long) planes * s.h() * s.w();
        Launch.of(d, "pool", "kiln_avgpool_bwd").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(gx).ptr(gy).struct(s.fields()).i32(planes).i32(countIncludePad ? 1 : 0).run();
    }

    public static void adaptiveAvgPool(CudaDevice d, long y, long x, int planes, int h, int w, int oh, int ow) {
        long n = (long) planes * oh * ow;
        Launch.of(d, "pool", "kiln_adaptive_avgpool").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(y).ptr(x).i32(planes).i32(h).i32(w).i32(oh).i32(ow).run();
    }

    public static void adaptiveAvgPoolBackward(CudaDevice d, long gx, long gy, int planes, int h, int w, int oh, int ow) {
        long n = (long) planes * h * w;
        Launch.of(d, "pool", "kiln_adaptive_avgpool_bwd").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                .ptr(gx).ptr(gy).i32(planes).i32(h).i32(w).i32(oh).i32(ow).run();
    }
}
