package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * 2-D convolution, as {@code torch.nn.Conv2d}: weight {@code [out, in/groups, kh, kw]}, bias
 * {@code [out]}, input {@code [N, in, H, W]} (or {@code [in, H, W]}). Initialised as PyTorch does:
 * weight and bias uniform in {@code ±1/sqrt(in/groups * kh * kw)}.
 */
public final class Conv2d extends Module {
    private final int in;
    private final int out;
    private final int kh;
    private final int kw;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final int groups;
    private final Parameter weight;
    private final Parameter bias;

    /** A square kernel with square stride and padding, no dilation, one group, with bias. */
    public Conv2d(int in, int out, int kernel, int stride, int padding, Generator g) {
        this(in, out, kernel, kernel, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1}, 1, true, g);
    }

    /** The full form; {@code stride}, {@code padding} and {@code dilation} are {@code {h, w}} or one value for both. */
    public Conv2d(int in, int out, int kh, int kw, int[] stride, int[] padding, int[] dilation, int groups, boolean bias, Generator g) {
        this.stride = pair("stride", stride, 1);
        this.padding = pair("padding", padding, 0);
        this.dilation = pair("dilation", dilation, 1);
        if (in < 1 || out < 1 || kh < 1 || kw < 1 || groups < 1 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d: expected positive channels and kernel with in and out divisible by groups, got in="
                    + in + " out=" + out + " kernel=" + kh + "x" + kw + " groups=" + groups);
        }
        this.in = in;
        this.out = out;
        this.kh = kh;
        this.kw = kw;
        this.groups = groups;
        this.weight = parameter("weight", Tensors.zeros(out, in / groups, kh, kw));
        this.bias = bias ? parameter("bias", Tensors.zeros(out)) : null;
        Init.kaimingUniform(weight.get(), Math.sqrt(5), Init.Mode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, g);
        if (bias) {
            double bound = 1 / Math.sqrt(Init.fans(weight.get().shape()).fanIn());
            Init.uniform(this.bias.get(), -bound, bound, g);
        }
    }

    private static int[] pair(String what, int[] v, int min) {
        int[] p = v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
        if (p.length != 2 || p[0] < min || p[1] < min) {
            throw new IllegalArgumentException("Conv2d: expected one or two values >= " + min + " for " + what + ", got " + Arrays.toString(v));
        }
        return p;
    }

    public int inChannels() {
        return in;
    }

    public int outChannels() {
        return out;
    }

    /** The weight parameter {@code [out, in/groups, kh, kw]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias parameter {@code [out]}, or null for a layer without bias. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        check(x);
        return Functional.conv2d(x, weight.get(), bias == null ? null : bias.get(), stride, padding, dilation, groups);
    }

    /**
     * {@code relu(forward(x))} in one fused op (what a {@link Sequential} runs for a Conv2d followed
     * by a {@link ReLU}): the same values and gradients, one output tensor fewer.
     */
    public Tensor forwardRelu(Tensor x) {
        check(x);
        return Functional.conv2dRelu(x, weight.get(), bias == null ? null : bias.get(), stride, padding, dilation, groups);
    }

    private void check(Tensor x) {
        int r = x.rank();
        if ((r != 4 && r != 3) || x.size(r - 3) != in) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + in + ", H, W] or [" + in + ", H, W], got "
                    + Arrays.toString(x.shape()));
        }
    }

    private static String size(int[] p) {
        return p[0] == p[1] ? Integer.toString(p[0]) : p[0] + "x" + p[1];
    }

    @Override
    protected String describe() {
        StringBuilder sb = new StringBuilder("Conv2d(").append(in).append(" -> ").append(out)
                .append(", k=").append(size(new int[] {kh, kw}))
                .append(", s=").append(size(stride))
                .append(", p=").append(size(padding));
        if (dilation[0] != 1 || dilation[1] != 1) {
            sb.append(", d=").append(size(dilation));
        }
        if (groups != 1) {
            sb.append(", groups=").append(groups);
        }
        if (bias == null) {
            sb.append(", bias=false");
        }
        return sb.append(')').toString();
    }
}
