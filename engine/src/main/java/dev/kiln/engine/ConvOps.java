package dev.kiln.engine;

import dev.kiln.kernels.ConvGeom;

/** conv2d and 2-D pooling with their gradients (NCHW; a 3-D CHW input is treated as a batch of one). */
final class ConvOps {
    private ConvOps() {
    }

    static int[] pair(String op, String what, int[] v) {
        if (v.length == 1) {
            return new int[] {v[0], v[0]};
        }
        if (v.length != 2) {
            throw new IllegalArgumentException(op + ": expected 1 or 2 values for " + what + ", got " + java.util.Arrays.toString(v));
        }
        return v;
    }

    private static Tensor batched(String op, Tensor x) {
        if (x.rank() == 3) {
            return x.unsqueeze(0);
        }
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expected input [N, C, H, W] or [C, H, W], got " + Shape.str(x.shapeRef()));
        }
        return x;
    }

    private static Tensor unbatched(Tensor in, Tensor y) {
        return in.rank() == 3 ? y.squeeze(0) : y;
    }

    static Tensor conv2d(Tensor input, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return conv2d(input, w, bias, stride, padding, dilation, groups, false);
    }

    /**
     * {@code relu(conv2d(...))} as one op: the ReLU applied in place to the convolution's fresh
     * output ({@link Backend#reluOwned}), its gradient taken from that output; the same values and
     * gradients as the two ops, without the ReLU's own output tensor.
     */
    static Tensor conv2dRelu(Tensor input, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return conv2d(input, w, bias, stride, padding, dilation, groups, true);
    }

    private static Tensor conv2d(Tensor input, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups,
                                 boolean relu) {
        MathOps.requireFloating("conv2d", input);
        MathOps.requireSame("conv2d", input, w);
        Tensor x = batched("conv2d", input);
        if (w.rank() != 4) {
            throw new IllegalArgumentException("conv2d: expected weight [OC, C/groups, KH, KW], got " + Shape.str(w.shapeRef()));
        }
        int[] xs = x.shapeRef();
        int[] ws = w.shapeRef();
        if (groups < 1 || xs[1] != ws[1] * groups) {
            throw new IllegalArgumentException("conv2d: input has " + xs[1] + " channels but weight " + Shape.str(ws) + " with groups="
                    + groups + " expects " + (ws[1] * Math.max(groups, 1)));
        }
        if (bias != null) {
            MathOps.requireSame("conv2d", input, bias);
            if (bias.rank() != 1 || bias.size(0) != ws[0]) {
                throw new IllegalArgumentException("conv2d: expected bias [" + ws[0] + "], got " + Shape.str(bias.shapeRef()));
            }
        }
        int[] s = pair("conv2d", "stride", stride);
        int[] p = pair("conv2d", "padding", padding);
        int[] d = pair("conv2d", "dilation", dilation);
        ConvGeom g = new ConvGeom(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], s[0], s[1], p[0], p[1], d[0], d[1], groups);
        Tensor conv = x.backend().conv2d(x, w, bias, g);
        Tensor y = relu ? x.backend().reluOwned(conv) : conv;
        Tensor out = Autograd.record(relu ? "conv2dRelu" : "conv2d", y, g0 -> {
            Backend be = g0.backend();
            Tensor gy = relu ? be.reluBackward(y, g0) : g0;
            Tensor sink = x.requiresGrad() ? Autograd.leafGradSink(x, gy, w) : null;
            Tensor gx = !x.requiresGrad() || sink != null && be.conv2dBackwardInputAccumulate(sink, gy, w, g) ? null
                    : be.conv2dBackwardInput(gy, w, g);
            Tensor[] gwb = w.requiresGrad() || (bias != null && bias.requiresGrad())
                    ? be.conv2dBackwardWeight(x, gy, g, bias != null) : new Tensor[2];
            return new Tensor[] {gx, gwb[0], gwb[1]};
        }, x, w, bias);
        return unbatched(input, out);
    }

    private static int outSize(String op, int in, int k, int s, int p, int d, boolean ceil) {
        if (k < 1 || s < 1 || d < 1 || p < 0) {
            throw new IllegalArgumentException(op + ": expected kernel, stride, dilation >= 1 and padding >= 0, got kernel=" + k
                    + " stride=" + s + " padding=" + p + " dilation=" + d);
        }
        if (p * 2 > k) {
            throw new IllegalArgumentException(op + ": padding should be at most half of the kernel size, got padding=" + p + " kernel=" + k);
        }
        int span = in + 2 * p - d * (k - 1) - 1;
        if (span < 0) {
            throw new IllegalArgumentException(op + ": kernel " + k + " (dilation " + d + ") is larger than the padded input " + (in + 2 * p));
        }
        int o = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (o - 1) * s >= in + p) {
            o--;
        }
        return o;
    }

    private static Backend.PoolGeom geom(String op, Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceil) {
        int[] k = pair(op, "kernel", kernel);
        int[] s = stride == null || stride.length == 0 ? k : pair(op, "stride", stride);
        int[] p = pair(op, "padding", padding);
        int[] d = pair(op, "dilation", dilation);
        int[] xs = x.shapeRef();
        return new Backend.PoolGeom(k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1],
                outSize(op, xs[2], k[0], s[0], p[0], d[0], ceil), outSize(op, xs[3], k[1], s[1], p[1], d[1], ceil));
    }

    static Tensor maxPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        MathOps.requireFloating("maxPool2d", input);
        Tensor x = batched("maxPool2d", input);
        Backend.PoolGeom g = geom("maxPool2d", x, kernel, stride, padding, dilation, ceilMode);
        Tensor[] yi = x.backend().maxPool2d(x, g);
        int[] in = x.shape();
        Tensor out = Autograd.record("maxPool2d", yi[0], gy -> new Tensor[] {gy.backend().maxPool2dBackward(gy, yi[1], in)}, x);
        return unbatched(input, out);
    }

    static Tensor avgPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        MathOps.requireFloating("avgPool2d", input);
        Tensor x = batched("avgPool2d", input);
        Backend.PoolGeom g = geom("avgPool2d", x, kernel, stride, padding, new int[] {1}, ceilMode);
        Tensor y = x.backend().avgPool2d(x, g, countIncludePad);
        int[] in = x.shape();
        Tensor out = Autograd.record("avgPool2d", y,
                gy -> new Tensor[] {gy.backend().avgPool2dBackward(gy, in, g, countIncludePad)}, x);
        return unbatched(input, out);
    }

    static Tensor adaptiveAvgPool2d(Tensor input, int oh, int ow) {
        MathOps.requireFloating("adaptiveAvgPool2d", input);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("adaptiveAvgPool2d: expected an output size >= 1, got " + oh + "x" + ow);
        }
        Tensor x = batched("adaptiveAvgPool2d", input);
        Tensor y = x.backend().adaptiveAvgPool2d(x, oh, ow);
        int[] in = x.shape();
        Tensor out = Autograd.record("adaptiveAvgPool2d", y, gy -> new Tensor[] {gy.backend().adaptiveAvgPool2dBackward(gy, in)}, x);
        return unbatched(input, out);
    }
}
