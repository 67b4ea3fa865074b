package dev.kiln.nn.layers;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.Arrays;

/**
 * Parameter initialisation in place with a seeded {@link Generator}, as {@code torch.nn.init}: the
 * same formulas for gains, fans and bounds, so that a layer starts from the same distribution as in
 * PyTorch (not the same numbers: the generators differ).
 *
 * <pre>{@code
 * Init.kaimingNormal(conv.weight().get(), 0, Init.Mode.FAN_OUT, Init.Nonlinearity.RELU, gen);
 * Init.zeros(conv.bias().get());
 * }</pre>
 */
public final class Init {
    private Init() {
    }

    /** Which fan scales the variance: forward ({@code fan_in}) or backward ({@code fan_out}) pass. */
    public enum Mode { FAN_IN, FAN_OUT }

    /** The nonlinearity that follows the layer, for {@link #gain}. */
    public enum Nonlinearity { LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU }

    /** Fan-in and fan-out of a weight shape. */
    public record Fans(int fanIn, int fanOut) {
    }

    /**
     * Fans as {@code torch.nn.init._calculate_fan_in_and_fan_out}: for a weight {@code [out, in, k...]}
     * fan-in is {@code in * prod(k)} and fan-out {@code out * prod(k)}.
     */
    public static Fans fans(int[] shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("Init.fans: expected a tensor with at least 2 dims, got " + Arrays.toString(shape));
        }
        int receptive = 1;
        for (int i = 2; i < shape.length; i++) {
            receptive *= shape[i];
        }
        return new Fans(shape[1] * receptive, shape[0] * receptive);
    }

    /**
     * The recommended gain of {@code torch.nn.init.calculate_gain}: 1 for linear and sigmoid, 5/3
     * for tanh, sqrt(2) for relu and sqrt(2 / (1 + slope^2)) for leaky relu with {@code slope}.
     */
    public static double gain(Nonlinearity nl, double slope) {
        return switch (nl) {
            case LINEAR, SIGMOID -> 1;
            case TANH -> 5.0 / 3;
            case RELU -> Math.sqrt(2);
            case LEAKY_RELU -> Math.sqrt(2 / (1 + slope * slope));
        };
    }

    private static int fan(Tensor t, Mode mode) {
        Fans f = fans(t.shape());
        return mode == Mode.FAN_IN ? f.fanIn() : f.fanOut();
    }

    /**
     * Kaiming (He) uniform: U(-b, b) with {@code b = gain(nl, a) * sqrt(3 / fan)}; {@code a} is the
     * leaky-relu slope (used only for {@link Nonlinearity#LEAKY_RELU}).
     */
    public static Tensor kaimingUniform(Tensor t, double a, Mode mode, Nonlinearity nl, Generator g) {
        double bound = gain(nl, a) * Math.sqrt(3.0 / fan(t, mode));
        return uniform(t, -bound, bound, g);
    }

    /** Kaiming (He) normal: N(0, std^2) with {@code std = gain(nl, a) / sqrt(fan)}. */
    public static Tensor kaimingNormal(Tensor t, double a, Mode mode, Nonlinearity nl, Generator g) {
        return normal(t, 0, gain(nl, a) / Math.sqrt(fan(t, mode)), g);
    }

    /** Xavier (Glorot) uniform: U(-b, b) with {@code b = gain * sqrt(6 / (fanIn + fanOut))}. */
    public static Tensor xavierUniform(Tensor t, double gain, Generator g) {
        Fans f = fans(t.shape());
        double bound = gain * Math.sqrt(6.0 / (f.fanIn() + f.fanOut()));
        return uniform(t, -bound, bound, g);
    }

    /** Xavier (Glorot) normal: N(0, std^2) with {@code std = gain * sqrt(2 / (fanIn + fanOut))}. */
    public static Tensor xavierNormal(Tensor t, double gain, Generator g) {
        Fans f = fans(t.shape());
        return normal(t, 0, gain * Math.sqrt(2.0 / (f.fanIn() + f.fanOut())), g);
    }

    /** Fills {@code t} with U(lo, hi); returns it. */
    public static Tensor uniform(Tensor t, double lo, double hi, Generator g) {
        return set(t, Tensors.uniform(g, t.dtype(), lo, hi, t.shape()));
    }

    /** Fills {@code t} with N(mean, std^2); returns it. */
    public static Tensor normal(Tensor t, double mean, double std, Generator g) {
        return set(t, Tensors.normal(g, t.dtype(), mean, std, t.shape()));
    }

    /** Fills {@code t} with zeros; returns it. */
    public static Tensor zeros(Tensor t) {
        return constant(t, 0);
    }

    /** Fills {@code t} with ones; returns it. */
    public static Tensor ones(Tensor t) {
        return constant(t, 1);
    }

    /** Fills {@code t} with {@code value}; returns it. */
    public static Tensor constant(Tensor t, double value) {
        try (var ng = Grad.disabled()) {
            return t.fill(value);
        }
    }

    private static Tensor set(Tensor t, Tensor values) {
        try (var ng = Grad.disabled()) {
            return t.copyFrom(values.to(t.device()));
        }
    }
}
