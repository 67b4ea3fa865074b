package dev.kiln.kernels.ref;

import dev.kiln.kernels.cpu.QGemmArgs;
import java.util.Objects;

/**
 * Reference quantized GEMM and quantization: the loops of the definitions, int32 accumulation
 * (wrapping, as the kernel), the real-valued epilogues in double. Same arguments, layouts and
 * checks as {@code dev.kiln.kernels.cpu.QGemm}, with {@code double} for its floats.
 */
public final class RefQGemm {
    /** Affine quantization parameters: {@code real = scale * (q - zeroPoint)}. */
    public record QParams(double scale, int zeroPoint) {
    }

    private RefQGemm() {
    }

    /**
     * {@code C[i,j] = sum_p (A[i,p] - zpA) * B[j,p]} in int32; A {@code [m,k]} at
     * {@code a[aOff + i*lda + p]} (uint8 when {@code aUnsigned}, else int8), B int8 {@code [n,k]} at
     * {@code b[bOff + j*ldb + p]}, C at {@code c[cOff + i*ldc + j]}.
     *
     * @throws IllegalArgumentException on negative dims or offsets, a leading dimension smaller
     *                                  than its row length, a buffer too small, or {@code zpA}
     *                                  outside the activation type's range
     */
    public static void gemmS32(int[] c, int cOff, int ldc, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                               byte[] b, int bOff, int ldb, int m, int n, int k) {
        Objects.requireNonNull(c, "gemmS32: c is null");
        checkInputs("gemmS32", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        QGemmArgs.checkMatrix("gemmS32", "c", c.length, cOff, ldc, m, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c[cOff + i * ldc + j] = dot(a, aOff + i * lda, aUnsigned, zpA, b, bOff + j * ldb, k);
            }
        }
    }

    /**
     * {@code y[i,j] = scaleA * scaleB[j] * acc[i,j] + bias[j]} with {@code acc} as in
     * {@link #gemmS32}; {@code scaleB} of length n or 1 (per tensor), {@code bias} of length n or null.
     *
     * @throws IllegalArgumentException as {@link #gemmS32}, and for a {@code scaleB} or {@code bias}
     *                                  of the wrong length
     */
    public static void gemmDequant(double[] y, int yOff, int ldy, byte[] a, int aOff, int lda, boolean aUnsigned,
                                   int zpA, double scaleA, byte[] b, int bOff, int ldb, double[] scaleB,
                                   double[] bias, int m, int n, int k) {
        Objects.requireNonNull(y, "gemmDequant: y is null");
        checkInputs("gemmDequant", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        checkScales("gemmDequant", scaleB, bias, n);
        QGemmArgs.checkMatrix("gemmDequant", "y", y.length, yOff, ldy, m, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                y[yOff + i * ldy + j] = real(dot(a, aOff + i * lda, aUnsigned, zpA, b, bOff + j * ldb, k),
                        scaleA, scaleB, bias, j);
            }
        }
    }

    /**
     * {@code y[i,j] = clamp(rint(real[i,j] / scaleY) + zpY)} with {@code real} the
     * {@link #gemmDequant} value, rounding half to even, saturating to uint8 ({@code yUnsigned}) or
     * int8; with {@code relu} then {@code max(y, zpY)}; a NaN gives {@code zpY}.
     *
     * @throws IllegalArgumentException as {@link #gemmDequant}, for {@code zpY} outside the output
     *                                  type's range, and for a {@code scaleY} that is not positive
     *                                  and finite
     */
    public static void gemmRequant(byte[] y, int yOff, int ldy, boolean yUnsigned, int zpY, double scaleY,
                                   byte[] a, int aOff, int lda, boolean aUnsigned, int zpA, double scaleA,
                                   byte[] b, int bOff, int ldb, double[] scaleB, double[] bias, boolean relu,
                                   int m, int n, int k) {
        Objects.requireNonNull(y, "gemmRequant: y is null");
        checkInputs("gemmRequant", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        checkScales("gemmRequant", scaleB, bias, n);
        QGemmArgs.checkZeroPoint("gemmRequant", "zpY", zpY, yUnsigned);
        QGemmArgs.checkScale("gemmRequant", "scaleY", scaleY);
        QGemmArgs.checkMatrix("gemmRequant", "y", y.length, yOff, ldy, m, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double v = real(dot(a, aOff + i * lda, aUnsigned, zpA, b, bOff + j * ldb, k), scaleA, scaleB, bias, j);
                int q = quantize(v, scaleY, zpY, yUnsigned);
                y[yOff + i * ldy + j] = (byte) (relu ? Math.max(q, zpY) : q);
            }
        }
    }

    /**
     * {@code q[i] = clamp(rint(x[i] / scale) + zeroPoint)}, uint8 ({@code qUnsigned}) or int8,
     * rounding half to even; NaN gives the zero point.
     *
     * @throws IllegalArgumentException on a negative n or offset, a buffer too small, a scale that is
     *                                  not positive and finite, or a zero point outside the type's range
     */
    public static void quantizePerTensor(byte[] q, int qOff, boolean qUnsigned, double[] x, int xOff, int n,
                                         double scale, int zeroPoint) {
        Objects.requireNonNull(q, "quantizePerTensor: q is null");
        Objects.requireNonNull(x, "quantizePerTensor: x is null");
        QGemmArgs.checkDims("quantizePerTensor", 1, n, 0);
        QGemmArgs.checkScale("quantizePerTensor", "scale", scale);
        QGemmArgs.checkZeroPoint("quantizePerTensor", "zeroPoint", zeroPoint, qUnsigned);
        QGemmArgs.checkMatrix("quantizePerTensor", "x", x.length, xOff, n, 1, n);
        QGemmArgs.checkMatrix("quantizePerTensor", "q", q.length, qOff, n, 1, n);
        for (int i = 0; i < n; i++) {
            q[qOff + i] = (byte) quantize(x[xOff + i], scale, zeroPoint, qUnsigned);
        }
    }

    /**
     * Row {@code r} of {@code x [rows, cols]} quantized with {@code scales[r]} and
     * {@code zeroPoints[r]} (all zero when null) as {@link #quantizePerTensor}.
     *
     * @throws IllegalArgumentException as {@link #quantizePerTensor}, and for scales or zero points
     *                                  shorter than {@code rows}
     */
    public static void quantizeRows(byte[] q, int qOff, int ldq, boolean qUnsigned, double[] x, int xOff, int ldx,
                                    double[] scales, int[] zeroPoints, int rows, int cols) {
        Objects.requireNonNull(q, "quantizeRows: q is null");
        Objects.requireNonNull(x, "quantizeRows: x is null");
        Objects.requireNonNull(scales, "quantizeRows: scales is null");
        QGemmArgs.checkDims("quantizeRows", rows, cols, 0);
        if (scales.length < rows || zeroPoints != null && zeroPoints.length < rows) {
            throw new IllegalArgumentException("quantizeRows: expected " + rows + " scales and zero points, got "
                    + scales.length + " and " + (zeroPoints == null ? "null" : zeroPoints.length));
        }
        for (int r = 0; r < rows; r++) {
            QGemmArgs.checkScale("quantizeRows", "scales[" + r + "]", scales[r]);
            QGemmArgs.checkZeroPoint("quantizeRows", "zeroPoints[" + r + "]", zeroPoints == null ? 0 : zeroPoints[r], qUnsigned);
        }
        QGemmArgs.checkMatrix("quantizeRows", "x", x.length, xOff, ldx, rows, cols);
        QGemmArgs.checkMatrix("quantizeRows", "q", q.length, qOff, ldq, rows, cols);
        for (int r = 0; r < rows; r++) {
            int zp = zeroPoints == null ? 0 : zeroPoints[r];
            for (int j = 0; j < cols; j++) {
                q[qOff + r * ldq + j] = (byte) quantize(x[xOff + r * ldx + j], scales[r], zp, qUnsigned);
            }
        }
    }

    /**
     * PyTorch's min/max uint8 parameters with {@code reduce_range=false}; see
     * {@link #dynamicQParams(double[], int, int, boolean)}.
     */
    public static QParams dynamicQParams(double[] x, int off, int n) {
        return dynamicQParams(x, off, n, false);
    }

    /**
     * PyTorch's {@code ChooseQuantizationParams(min(x), max(x), 0, reduceRange ? 127 : 255)}: the
     * range widened to contain 0, scale {@code (max - min) / (qmax - qmin)} (0.1 when that is 0, at
     * least {@code 6.1e-5} with the range stretched to match), zero point from whichever end adds
     * the smaller terms, rounded half to even and clamped. Like PyTorch it takes min and max as
     * floats; the scale is returned unrounded.
     *
     * @throws IllegalArgumentException on a negative n or offset, a buffer too small, or a value
     *                                  that is not finite
     */
    public static QParams dynamicQParams(double[] x, int off, int n, boolean reduceRange) {
        Objects.requireNonNull(x, "dynamicQParams: x is null");
        QGemmArgs.checkDims("dynamicQParams", 1, n, 0);
        QGemmArgs.checkMatrix("dynamicQParams", "x", x.length, off, n, 1, n);
        double lo = n == 0 ? 0 : Double.POSITIVE_INFINITY;
        double hi = n == 0 ? 0 : Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(x[off + i])) {
                throw new IllegalArgumentException("dynamicQParams: expected finite values, got " + x[off + i]
                        + " at x[" + (off + i) + "]");
            }
            lo = Math.min(lo, x[off + i]);
            hi = Math.max(hi, x[off + i]);
        }
        int qmax = reduceRange ? 127 : 255;
        float min = Math.min((float) lo, 0f);
        float max = Math.max((float) hi, 0f);
        double scale = ((double) max - min) / qmax;
        if ((float) scale == 0f || Float.isInfinite(1f / (float) scale)) {
            scale = 0.1;
        }
        float small = 6.1e-5f;
        if (scale < small) {
            float amplifier = small / (float) scale;
            scale = small;
            if (min == 0f) {
                max = small * qmax;
            } else if (max == 0f) {
                min = -small * qmax;
            } else {
                min *= amplifier;
                max *= amplifier;
            }
        }
        double fromMin = -min / scale;
        double fromMax = qmax - max / scale;
        double initial = -Math.abs(min / scale) < qmax - Math.abs(max / scale) ? fromMin : fromMax;
        int zp = initial < 0 ? 0 : initial > qmax ? qmax : (int) Math.rint(initial);
        return new QParams(scale, zp);
    }

    private static int dot(byte[] a, int ai, boolean aUnsigned, int zpA, byte[] b, int bi, int k) {
        int s = 0;
        for (int p = 0; p < k; p++) {
            int av = aUnsigned ? a[ai + p] & 0xff : a[ai + p];
            s += (av - zpA) * b[bi + p];
        }
        return s;
    }

    private static double real(int acc, double scaleA, double[] scaleB, double[] bias, int j) {
        return scaleA * scaleB[scaleB.length == 1 ? 0 : j] * acc + (bias == null ? 0 : bias[j]);
    }

    private static int quantize(double v, double scale, int zp, boolean unsigned) {
        if (Double.isNaN(v)) {
            return zp;
        }
        double q = Math.rint(v / scale) + zp;
        return (int) Math.max(unsigned ? 0 : -128, Math.min(unsigned ? 255 : 127, q));
    }

    private static void checkInputs(String name, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        Objects.requireNonNull(a, name + ": a is null");
        Objects.requireNonNull(b, name + ": b is null");
        QGemmArgs.checkDims(name, m, n, k);
        QGemmArgs.checkZeroPoint(name, "zpA", zpA, aUnsigned);
        QGemmArgs.checkMatrix(name, "a", a.length, aOff, lda, m, k);
        QGemmArgs.checkMatrix(name, "b", b.length, bOff, ldb, n, k);
    }

    private static void checkScales(String name, double[] scaleB, double[] bias, int n) {
        Objects.requireNonNull(scaleB, name + ": scaleB is null");
        QGemmArgs.checkScales(name, scaleB.length, bias == null ? -1 : bias.length, n);
    }
}
