package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.LT;

import jdk.incubator.vector.FloatVector;

/**
 * GELU {@code x * Phi(x)} and its derivative {@code Phi(x) + x * phi(x)} in fp32, vector and scalar,
 * with {@code Phi} the standard normal cdf and {@code phi} its pdf. Scalar methods compute what the
 * vector lanes compute, step by step, with {@link VMath#exp}, so lanes and tails give the same bits.
 *
 * <p>Phi goes through erfc: {@code erfc(z) = t * exp(-z^2 + P(t))}, {@code t = 1 / (1 + z/2)},
 * {@code z >= 0}, with the Chebyshev-fitted degree-9 polynomial P of Numerical Recipes ("erfcc"),
 * whose relative error is below 1.2e-7 for every {@code z >= 0}. {@code Phi(x) = erfc(-x/sqrt2)/2}
 * for {@code x < 0} and {@code 1 - erfc(x/sqrt2)/2} otherwise, so the left tail keeps a small
 * relative error (no cancellation) and the right side is within about 1.2e-7 absolute (2 ulp).
 * Measured in fp32, the relative error of Phi (and so of GELU {@code x * Phi(x)}) stays below 3e-7
 * for {@code |x| <= 3}, 6.4e-7 for {@code |x| <= 4} and 2e-6 for {@code |x| <= 10}; deep in the left
 * tail the rounding of the exponent {@code -x^2/2 + P(t)} (one fused multiply-add) dominates.
 * {@code phi(x)} reuses that exponential: {@code exp(-x^2/2 + P) * G(P)} with
 * {@code G(P) = exp(-P) / sqrt(2 pi)} a degree-7 polynomial on P's range [-1.27, 0] (relative error
 * 1e-8), so only one exponential is taken per element and P's own error cancels.
 */
final class Gauss {
    private static final float C0 = -1.26551223f;
    private static final float C1 = 1.00002368f;
    private static final float C2 = 0.37409196f;
    private static final float C3 = 0.09678418f;
    private static final float C4 = -0.18628806f;
    private static final float C5 = 0.27886807f;
    private static final float C6 = -1.13520398f;
    private static final float C7 = 1.48851587f;
    private static final float C8 = -0.82215223f;
    private static final float C9 = 0.17087277f;
    private static final float G0 = 3.9894227677e-01f;
    private static final float G1 = -3.9894264620e-01f;
    private static final float G2 = 1.9946512373e-01f;
    private static final float G3 = -6.6527889156e-02f;
    private static final float G4 = 1.6508553889e-02f;
    private static final float G5 = -3.5107013717e-03f;
    private static final float G6 = 3.8931043391e-04f;
    private static final float G7 = -1.5104912182e-04f;
    private static final float HALF_INV_SQRT2 = (float) (0.5 / Math.sqrt(2));
    private Gauss() {
    }

    /** {@code t = 1 / (1 + |x| / (2 sqrt 2))} for every lane. */
    private static FloatVector t(FloatVector x) {
        FloatVector one = x.broadcast(1f);
        return one.div(x.abs().fma(x.broadcast(HALF_INV_SQRT2), one));
    }

    private static float t(float x) {
        return 1f / Math.fma(Math.abs(x), HALF_INV_SQRT2, 1f);
    }

    /** P(t) for every lane. */
    private static FloatVector p(FloatVector t) {
        return t.fma(C9, C8).fma(t, t.broadcast(C7)).fma(t, t.broadcast(C6)).fma(t, t.broadcast(C5))
                .fma(t, t.broadcast(C4)).fma(t, t.broadcast(C3)).fma(t, t.broadcast(C2)).fma(t, t.broadcast(C1))
                .fma(t, t.broadcast(C0));
    }

    private static float p(float t) {
        float p = Math.fma(t, C9, C8);
        p = Math.fma(p, t, C7);
        p = Math.fma(p, t, C6);
        p = Math.fma(p, t, C5);
        p = Math.fma(p, t, C4);
        p = Math.fma(p, t, C3);
        p = Math.fma(p, t, C2);
        p = Math.fma(p, t, C1);
        return Math.fma(p, t, C0);
    }

    /** {@code x * Phi(x)} for every lane. */
    static FloatVector gelu(FloatVector x) {
        FloatVector t = t(x);
        FloatVector e = VMath.exp(x.mul(-0.5f).fma(x, p(t)));
        FloatVector half = t.mul(0.5f).mul(e);
        return x.mul(half.broadcast(1f).sub(half).blend(half, x.compare(LT, 0f)));
    }

    /** {@code x * Phi(x)}, the same bits as a lane of {@link #gelu(FloatVector)}. */
    static float gelu(float x) {
        float t = t(x);
        float e = VMath.exp(Math.fma(x * -0.5f, x, p(t)));
        float half = t * 0.5f * e;
        return x * (x < 0f ? half : 1f - half);
    }

    /** {@code Phi(x) + x * phi(x)} for every lane. */
    static FloatVector geluGrad(FloatVector x) {
        FloatVector t = t(x);
        FloatVector p = p(t);
        FloatVector e = VMath.exp(x.mul(-0.5f).fma(x, p));
        FloatVector half = t.mul(0.5f).mul(e);
        FloatVector g = p.fma(G7, G6).fma(p, p.broadcast(G5)).fma(p, p.broadcast(G4)).fma(p, p.broadcast(G3))
                .fma(p, p.broadcast(G2)).fma(p, p.broadcast(G1)).fma(p, p.broadcast(G0));
        return x.fma(e.mul(g), half.broadcast(1f).sub(half).blend(half, x.compare(LT, 0f)));
    }

    /** {@code Phi(x) + x * phi(x)}, the same bits as a lane of {@link #geluGrad(FloatVector)}. */
    static float geluGrad(float x) {
        float t = t(x);
        float p = p(t);
        float e = VMath.exp(Math.fma(x * -0.5f, x, p));
        float half = t * 0.5f * e;
        float g = Math.fma(p, G7, G6);
        g = Math.fma(g, p, G5);
        g = Math.fma(g, p, G4);
        g = Math.fma(g, p, G3);
        g = Math.fma(g, p, G2);
        g = Math.fma(g, p, G1);
        g = Math.fma(g, p, G0);
        return Math.fma(x, e * g, x < 0f ? half : 1f - half);
    }
}
