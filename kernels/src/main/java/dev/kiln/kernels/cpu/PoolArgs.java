package dev.kiln.kernels.cpu;

/**
 * Argument checks shared by {@link Pool} and {@code ref.RefPool}, so the fp32 kernels and their
 * references accept exactly the same arguments. Buffers are {@code planes} planes of
 * {@code [h, w]} (input side) and {@code [oh, ow]} (output side); each check throws
 * {@link IllegalArgumentException} naming the kernel, what was expected and what was given.
 *
 * <pre>{@code
 * PoolArgs.pooled("avgPool2d", false, x.length, y.length, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow);
 * }</pre>
 */
public final class PoolArgs {
    private PoolArgs() {
    }

    /**
     * Checks a windowed pooling call; {@code inLen} is the length of x (or gx when
     * {@code backward}), {@code outLen} that of y (or gy).
     */
    public static void pooled(String kernel, boolean backward, int inLen, int outLen, int planes, int h, int w,
                              int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        planes(kernel, planes, h, w, oh, ow);
        if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new IllegalArgumentException(kernel + ": expected kh, kw, sh, sw, dh, dw >= 1, got kh " + kh
                    + ", kw " + kw + ", sh " + sh + ", sw " + sw + ", dh " + dh + ", dw " + dw);
        }
        if (ph < 0 || pw < 0) {
            throw new IllegalArgumentException(kernel + ": expected ph, pw >= 0, got ph " + ph + ", pw " + pw);
        }
        buffers(kernel, backward, inLen, outLen, planes, h, w, oh, ow);
    }

    /** Checks an adaptive pooling call (lengths as in {@link #pooled}). */
    public static void adaptive(String kernel, boolean backward, int inLen, int outLen,
                                int planes, int h, int w, int oh, int ow) {
        planes(kernel, planes, h, w, oh, ow);
        buffers(kernel, backward, inLen, outLen, planes, h, w, oh, ow);
    }

    /** Checks the argmax buffer of max pooling: {@code planes*oh*ow} ints. */
    public static void argmax(String kernel, int argmaxLen, int planes, int oh, int ow) {
        ConvArgs.need(kernel, "argmax", ConvArgs.product(planes, oh, ow), 0, argmaxLen);
    }

    private static void planes(String kernel, int planes, int h, int w, int oh, int ow) {
        if (planes < 0 || h < 1 || w < 1 || oh < 0 || ow < 0) {
            throw new IllegalArgumentException(kernel + ": expected planes >= 0, h, w >= 1 and oh, ow >= 0, got planes "
                    + planes + ", h " + h + ", w " + w + ", oh " + oh + ", ow " + ow);
        }
    }

    private static void buffers(String kernel, boolean backward, int inLen, int outLen,
                                int planes, int h, int w, int oh, int ow) {
        ConvArgs.need(kernel, backward ? "gx" : "x", ConvArgs.product(planes, h, w), 0, inLen);
        ConvArgs.need(kernel, backward ? "gy" : "y", ConvArgs.product(planes, oh, ow), 0, outLen);
    }
}
