package dev.kiln.kernels.ref;

/**
 * erf, erfc and the standard normal cdf/pdf in double: erf and erfc to about 1e-15 relative (erfc
 * far into its tail too), the cdf likewise except deep in the left tail, where the rounding of
 * {@code x / sqrt 2} costs up to about 1e-13 relative (x = -30).
 *
 * <p>{@code erf(x)} for {@code |x| < 2} sums the everywhere-positive series
 * {@code erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_k 2^k x^(2k+1) / (1*3*...*(2k+1))} (no cancellation,
 * at most about 30 terms); {@code erfc(x)} for {@code x >= 1} evaluates Laplace's continued fraction
 * {@code erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))} with the modified
 * Lentz method (under 200 terms at x = 1, fewer further out), with {@code exp(-x^2)} split as
 * {@code exp(-s^2) * exp((s - x)(s + x))} for s = x rounded down to 1/16 (s^2 is exact), so the
 * rounding of x^2 does not cost relative accuracy in the tail. The other ranges use
 * {@code erf = 1 - erfc}, {@code erfc = 1 - erf} and the symmetries {@code erf(-x) = -erf(x)},
 * {@code erfc(-x) = 2 - erfc(x)}.
 */
final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double EPS = 1e-17;

    private Erf() {
    }

    /** The error function. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r = a < 2 ? series(a) : 1 - continuedFraction(a);
        return Math.copySign(r, x);
    }

    /** The complementary error function {@code 1 - erf(x)}, accurate relative to itself for large x. */
    static double erfc(double x) {
        double a = Math.abs(x);
        double r = a < 1 ? 1 - series(a) : continuedFraction(a);
        return x < 0 ? 2 - r : r;
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2, accurate relative to itself in the left tail. */
    static double cdf(double x) {
        return 0.5 * erfc(-x * INV_SQRT2);
    }

    /** phi(x) = exp(-x^2 / 2) / sqrt(2 pi). */
    static double pdf(double x) {
        return Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
    }

    /** erf(a) for {@code 0 <= a < 2} (NaN gives NaN). */
    private static double series(double a) {
        double a2 = a * a;
        double term = a;
        double sum = a;
        for (int k = 1; term > sum * EPS; k++) {
            term *= 2 * a2 / (2 * k + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
    }

    /**
     * erfc(a) for {@code a >= 1} (NaN gives NaN; from 28 on it rounds to 0): Lentz's
     * method on Laplace's continued fraction.
     */
    private static double continuedFraction(double a) {
        if (Double.isNaN(a)) {
            return a;
        }
        if (a >= 28) {
            return 0;
        }
        double f = a;
        double c = a;
        double d = 0;
        for (int k = 1; k < 1000; k++) {
            double coef = 0.5 * k;
            d = 1 / (a + coef * d);
            c = a + coef / c;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < EPS * 10) {
                break;
            }
        }
        double s = Math.floor(a * 16) / 16;
        return INV_SQRT_PI * Math.exp(-s * s) * Math.exp((s - a) * (s + a)) / f;
    }
}
