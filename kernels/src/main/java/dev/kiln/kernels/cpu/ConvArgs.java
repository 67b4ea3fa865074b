package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;

/**
 * Argument checks shared by {@link Conv} and {@code ref.RefConv}, so the fp32 kernels and their
 * references accept exactly the same arguments. Each throws {@link IllegalArgumentException}
 * naming the kernel, the buffer, what was needed and what was given.
 *
 * <pre>{@code
 * ConvArgs.forward(g, y.length, x.length, w.length, bias == null ? -1 : bias.length);
 * }</pre>
 */
public final class ConvArgs {
    private ConvArgs() {
    }

    /** Checks the buffers of {@code conv2d}; {@code bias} is -1 when there is no bias. */
    public static void forward(ConvGeom g, int y, int x, int w, int bias) {
        need("conv2d", "y", g.ySize(), 0, y);
        need("conv2d", "x", g.xSize(), 0, x);
        need("conv2d", "w", g.wSize(), 0, w);
        if (bias >= 0) {
            need("conv2d", "bias", g.oc(), 0, bias);
        }
    }

    /** Checks the buffers of {@code conv2dBackwardInput}. */
    public static void backwardInput(ConvGeom g, int gx, int gy, int w) {
        need("conv2dBackwardInput", "gx", g.xSize(), 0, gx);
        need("conv2dBackwardInput", "gy", g.ySize(), 0, gy);
        need("conv2dBackwardInput", "w", g.wSize(), 0, w);
    }

    /** Checks the buffers of {@code conv2dBackwardWeight}; {@code gb} is -1 when there is no bias gradient. */
    public static void backwardWeight(ConvGeom g, int gw, int gb, int x, int gy) {
        need("conv2dBackwardWeight", "gw", g.wSize(), 0, gw);
        if (gb >= 0) {
            need("conv2dBackwardWeight", "gb", g.oc(), 0, gb);
        }
        need("conv2dBackwardWeight", "x", g.xSize(), 0, x);
        need("conv2dBackwardWeight", "gy", g.ySize(), 0, gy);
    }

    /**
     * Checks the dims and buffers of {@code im2col} / {@code col2im}: col holds
     * {@code [c*kh*kw, oh*ow]} from {@code colOff}, x holds {@code [c, h, w]} from {@code xOff}.
     */
    public static void columns(String kernel, int col, int colOff, int x, int xOff, int c, int h, int w,
                               int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        if (c < 0 || h < 0 || w < 0 || oh < 0 || ow < 0) {
            throw new IllegalArgumentException(kernel + ": expected c, h, w, oh, ow >= 0, got c " + c + ", h " + h
                    + ", w " + w + ", oh " + oh + ", ow " + ow);
        }
        if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new IllegalArgumentException(kernel + ": expected kh, kw, sh, sw, dh, dw >= 1, got kh " + kh
                    + ", kw " + kw + ", sh " + sh + ", sw " + sw + ", dh " + dh + ", dw " + dw);
        }
        if (ph < 0 || pw < 0) {
            throw new IllegalArgumentException(kernel + ": expected ph, pw >= 0, got ph " + ph + ", pw " + pw);
        }
        need(kernel, "col", product(c, kh, kw, oh, ow), colOff, col);
        need(kernel, "x", product(c, h, w), xOff, x);
    }

    /** Product of non-negative ints, saturating at {@code Long.MAX_VALUE}. */
    static long product(int... factors) {
        long p = 1;
        try {
            for (int f : factors) {
                p = Math.multiplyExact(p, f);
            }
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
        return p;
    }

    /** Throws unless a buffer of length {@code has} holds {@code need} elements from {@code off >= 0}. */
    static void need(String kernel, String buffer, long need, int off, int has) {
        if (off < 0) {
            throw new IllegalArgumentException(kernel + ": " + buffer + " offset must be >= 0, got " + off);
        }
        if (need > has - (long) off) {
            throw new IllegalArgumentException(kernel + ": " + buffer + " too small: need " + need
                    + " elements from offset " + off + ", has " + has);
        }
    }
}
