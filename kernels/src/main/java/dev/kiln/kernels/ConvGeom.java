package dev.kiln.kernels;

/**
 * Geometry of a 2-d convolution over NCHW tensors: input {@code [n, c, h, w]}, weight
 * {@code [oc, c/groups, kh, kw]}, output {@code [n, oc, oh, ow]}, with stride {@code (sh, sw)},
 * zero padding {@code (ph, pw)} on both sides and dilation {@code (dh, dw)}.
 *
 * <p>{@code oh = (h + 2*ph - dh*(kh-1) - 1) / sh + 1}, likewise {@code ow}. The constructor
 * rejects anything that does not describe a convolution with at least one output element.
 *
 * <pre>{@code
 * var g = new ConvGeom(64, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);   // 3 -> 32, 3x3 pad 1
 * float[] y = new float[Math.toIntExact(g.ySize())];
 * }</pre>
 */
public record ConvGeom(int n, int c, int h, int w, int oc, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw, int groups) {

    /** Validates every field; throws {@link IllegalArgumentException} naming what was expected and given. */
    public ConvGeom {
        positive("n", n);
        positive("c", c);
        positive("h", h);
        positive("w", w);
        positive("oc", oc);
        positive("kh", kh);
        positive("kw", kw);
        positive("sh", sh);
        positive("sw", sw);
        positive("dh", dh);
        positive("dw", dw);
        positive("groups", groups);
        if (ph < 0 || pw < 0) {
            throw new IllegalArgumentException("ConvGeom: expected padding ph, pw >= 0, got ph " + ph + ", pw " + pw);
        }
        if (c % groups != 0 || oc % groups != 0) {
            throw new IllegalArgumentException("ConvGeom: expected c and oc divisible by groups, got c " + c
                    + ", oc " + oc + ", groups " + groups);
        }
        outputExtent("height", "h", h, "ph", ph, "kh", kh, "dh", dh);
        outputExtent("width", "w", w, "pw", pw, "kw", kw, "dw", dw);
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("ConvGeom: expected " + name + " >= 1, got " + v);
        }
    }

    private static void outputExtent(String what, String in, int size, String pn, int pad,
                                     String kn, int k, String dn, int dil) {
        long padded = size + 2L * pad;
        long span = (long) dil * (k - 1) + 1;
        if (padded < span) {
            throw new IllegalArgumentException("ConvGeom: expected output " + what + " >= 1, but padded input "
                    + in + " + 2*" + pn + " = " + padded + " is smaller than the dilated kernel " + dn + "*(" + kn
                    + "-1)+1 = " + span + " (" + in + " " + size + ", " + pn + " " + pad + ", " + kn + " " + k
                    + ", " + dn + " " + dil + ")");
        }
        if (padded - span + 1 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ConvGeom: output " + what + " overflows int (" + in + " " + size
                    + ", " + pn + " " + pad + ")");
        }
    }

    /** Output height {@code (h + 2*ph - dh*(kh-1) - 1) / sh + 1}. */
    public int oh() {
        return (int) ((h + 2L * ph - (long) dh * (kh - 1) - 1) / sh + 1);
    }

    /** Output width {@code (w + 2*pw - dw*(kw-1) - 1) / sw + 1}. */
    public int ow() {
        return (int) ((w + 2L * pw - (long) dw * (kw - 1) - 1) / sw + 1);
    }

    /** Input channels per group, {@code c / groups}. */
    public int cPerGroup() {
        return c / groups;
    }

    /** Output channels per group, {@code oc / groups}. */
    public int ocPerGroup() {
        return oc / groups;
    }

    /** Elements of the input {@code [n, c, h, w]}. */
    public long xSize() {
        return (long) n * c * h * w;
    }

    /** Elements of the output {@code [n, oc, oh, ow]}. */
    public long ySize() {
        return (long) n * oc * oh() * ow();
    }

    /** Elements of the weight {@code [oc, c/groups, kh, kw]}. */
    public long wSize() {
        return (long) oc * cPerGroup() * kh * kw;
    }

    /** True for a 1x1 kernel with stride 1 and no padding: the input is its own im2col matrix. */
    public boolean isPointwise() {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
    }
}
