package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.F;
import static dev.kiln.kernels.cpu.GemmMicro.L;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;

/**
 * Dot-product kernels for the direct GEMM, where both operands are contiguous along k: 4 x 4
 * blocks of C from four rows of each operand (8 loads per 16 FMAs; 2 x 4 blocks with 16 vector
 * registers), sums reduced once at the end plus a scalar tail of {@code k mod L}. Vectors never cross a call to a plain helper (C2 may
 * decline to inline it and would box them).
 */
final class GemmDot {
    private GemmDot() {
    }

    /**
     * {@code C[m,n] (=|+=) X[m,k] * Y[n,k]^T}: dot products of rows of X (leading dim {@code ldx})
     * with rows of Y (leading dim {@code ldy}), 4 x 4 at a time.
     */
    static void dot(boolean acc, float[] c, int cOff, int ldc, float[] x, int xOff, int ldx,
                    float[] y, int yOff, int ldy, int m, int n, int k) {
        if (Simd.REGISTERS < 32) {
            dotPairs(acc, c, cOff, ldc, x, xOff, ldx, y, yOff, ldy, m, n, k);
            return;
        }
        int m4 = m & ~3;
        int n4 = n & ~3;
        for (int i = 0; i < m4; i += 4) {
            for (int j = 0; j < n4; j += 4) {
                dot4x4(acc, c, cOff + i * ldc + j, ldc, x, xOff + i * ldx, ldx, y, yOff + j * ldy, ldy, k);
            }
            for (int j = n4; j < n; j++) {
                dot1x4(acc, c, cOff + i * ldc + j, ldc, y, yOff + j * ldy, x, xOff + i * ldx, ldx, 4, k);
            }
        }
        for (int i = m4; i < m; i++) {
            for (int j = 0; j < n; j += 4) {
                dot1x4(acc, c, cOff + i * ldc + j, 1, x, xOff + i * ldx, y, yOff + j * ldy, ldy,
                        Math.min(4, n - j), k);
            }
        }
    }

    /**
     * {@link #dot} with 16 vector registers (AVX2), where the 4 x 4 block's 16 sums and 8 loaded
     * vectors do not fit and spill: rows of Y four at a time (each read from memory once), against
     * rows of X two at a time (2 x 4 blocks: 8 sums, 6 loads per 8 FMAs). Each sum is formed as in
     * the 4 x 4 block, so the results are the same bits. Zen 1, 1024 x 1024 B^T, four and eight
     * rows: 1.40-1.44x the 4 x 4 blocks' rate on 1 thread (29-30 against 21 GFLOP/s).
     */
    private static void dotPairs(boolean acc, float[] c, int cOff, int ldc, float[] x, int xOff, int ldx,
                                 float[] y, int yOff, int ldy, int m, int n, int k) {
        int m2 = m & ~1;
        int n4 = n & ~3;
        for (int j = 0; j < n4; j += 4) {
            for (int i = 0; i < m2; i += 2) {
                dot2x4(acc, c, cOff + i * ldc + j, ldc, x, xOff + i * ldx, ldx, y, yOff + j * ldy, ldy, k);
            }
            if (m2 < m) {
                dot1x4(acc, c, cOff + m2 * ldc + j, 1, x, xOff + m2 * ldx, y, yOff + j * ldy, ldy, 4, k);
            }
        }
        if (n4 < n) {
            for (int i = 0; i < m; i++) {
                dot1x4(acc, c, cOff + i * ldc + n4, 1, x, xOff + i * ldx, y, yOff + n4 * ldy, ldy, n - n4, k);
            }
        }
    }

    /** Two rows of X (from {@code xi}) against four rows of Y (from {@code yi}) into a 2 x 4 block of C. */
    private static void dot2x4(boolean acc, float[] c, int ci, int ldc, float[] x, int xi, int ldx,
                               float[] y, int yi, int ldy, int k) {
        int x0i = xi;
        int x1i = xi + ldx;
        int y0i = yi;
        int y1i = yi + ldy;
        int y2i = yi + 2 * ldy;
        int y3i = yi + 3 * ldy;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        int kb = F.loopBound(k);
        for (int p = 0; p < kb; p += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, x0i + p);
            FloatVector x1 = FloatVector.fromArray(F, x, x1i + p);
            FloatVector w = FloatVector.fromArray(F, y, y0i + p);
            s00 = x0.fma(w, s00);
            s10 = x1.fma(w, s10);
            w = FloatVector.fromArray(F, y, y1i + p);
            s01 = x0.fma(w, s01);
            s11 = x1.fma(w, s11);
            w = FloatVector.fromArray(F, y, y2i + p);
            s02 = x0.fma(w, s02);
            s12 = x1.fma(w, s12);
            w = FloatVector.fromArray(F, y, y3i + p);
            s03 = x0.fma(w, s03);
            s13 = x1.fma(w, s13);
        }
        float t00 = Simd.sumLanes(s00);
        float t01 = Simd.sumLanes(s01);
        float t02 = Simd.sumLanes(s02);
        float t03 = Simd.sumLanes(s03);
        float t10 = Simd.sumLanes(s10);
        float t11 = Simd.sumLanes(s11);
        float t12 = Simd.sumLanes(s12);
        float t13 = Simd.sumLanes(s13);
        if (kb == k) {
            put(acc, c, ci, t00);
            put(acc, c, ci + 1, t01);
            put(acc, c, ci + 2, t02);
            put(acc, c, ci + 3, t03);
            put(acc, c, ci + ldc, t10);
            put(acc, c, ci + ldc + 1, t11);
            put(acc, c, ci + ldc + 2, t12);
            put(acc, c, ci + ldc + 3, t13);
        } else {
            finish(acc, c, ci, 1, 4, t00, t01, t02, t03, x, x0i, y, y0i, y1i, y2i, y3i, kb, k);
            finish(acc, c, ci + ldc, 1, 4, t10, t11, t12, t13, x, x1i, y, y0i, y1i, y2i, y3i, kb, k);
        }
    }

    /**
     * {@code c[j] (=|+=) x . Y[j]} for {@code j < n}: one row of X (from {@code xOff}) against the
     * rows of Y (leading dim {@code ldy}), four at a time: GEMV, as batch-1 Linear layers call it.
     * The loop is {@link #dot1x4}'s, but the sums are stored here unless k has a tail: with every
     * group ending in a call of {@link #finish}, 1 x 1024 x 1024 on 2 threads ran at 52-58 us a
     * call in three processes of five and 42-45 in the others (0.86-0.97x OpenBLAS `sgemv`), as
     * this loop does in all five (40-47 us, 1.03-1.25x; Zen 1, both timed side by side).
     */
    static void gemv(boolean acc, float[] c, int cOff, float[] x, int xOff, float[] y, int yOff, int ldy, int n, int k) {
        int n4 = n & ~3;
        int kb = F.loopBound(k);
        for (int j = 0; j < n4; j += 4) {
            int y0i = yOff + j * ldy;
            int y1i = y0i + ldy;
            int y2i = y1i + ldy;
            int y3i = y2i + ldy;
            FloatVector z = FloatVector.zero(F);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (int p = 0; p < kb; p += L) {
                FloatVector x0 = FloatVector.fromArray(F, x, xOff + p);
                s0 = x0.fma(FloatVector.fromArray(F, y, y0i + p), s0);
                s1 = x0.fma(FloatVector.fromArray(F, y, y1i + p), s1);
                s2 = x0.fma(FloatVector.fromArray(F, y, y2i + p), s2);
                s3 = x0.fma(FloatVector.fromArray(F, y, y3i + p), s3);
            }
            float t0 = Simd.sumLanes(s0);
            float t1 = Simd.sumLanes(s1);
            float t2 = Simd.sumLanes(s2);
            float t3 = Simd.sumLanes(s3);
            if (kb == k) {
                put(acc, c, cOff + j, t0);
                put(acc, c, cOff + j + 1, t1);
                put(acc, c, cOff + j + 2, t2);
                put(acc, c, cOff + j + 3, t3);
            } else {
                finish(acc, c, cOff + j, 1, 4, t0, t1, t2, t3, x, xOff, y, y0i, y1i, y2i, y3i, kb, k);
            }
        }
        if (n4 < n) {
            dot1x4(acc, c, cOff + n4, 1, x, xOff, y, yOff + n4 * ldy, ldy, n - n4, k);
        }
    }

    /** Four rows of X (from {@code xi}) against four rows of Y (from {@code yi}) into a 4 x 4 block of C. */
    private static void dot4x4(boolean acc, float[] c, int ci, int ldc, float[] x, int xi, int ldx,
                               float[] y, int yi, int ldy, int k) {
        int x0i = xi, x1i = xi + ldx, x2i = xi + 2 * ldx, x3i = xi + 3 * ldx;
        int y0i = yi, y1i = yi + ldy, y2i = yi + 2 * ldy, y3i = yi + 3 * ldy;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int kb = F.loopBound(k);
        for (int p = 0; p < kb; p += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, x0i + p);
            FloatVector x1 = FloatVector.fromArray(F, x, x1i + p);
            FloatVector x2 = FloatVector.fromArray(F, x, x2i + p);
            FloatVector x3 = FloatVector.fromArray(F, x, x3i + p);
            FloatVector y0 = FloatVector.fromArray(F, y, y0i + p);
            FloatVector y1 = FloatVector.fromArray(F, y, y1i + p);
            FloatVector y2 = FloatVector.fromArray(F, y, y2i + p);
            FloatVector y3 = FloatVector.fromArray(F, y, y3i + p);
            s00 = x0.fma(y0, s00);
            s01 = x0.fma(y1, s01);
            s02 = x0.fma(y2, s02);
            s03 = x0.fma(y3, s03);
            s10 = x1.fma(y0, s10);
            s11 = x1.fma(y1, s11);
            s12 = x1.fma(y2, s12);
            s13 = x1.fma(y3, s13);
            s20 = x2.fma(y0, s20);
            s21 = x2.fma(y1, s21);
            s22 = x2.fma(y2, s22);
            s23 = x2.fma(y3, s23);
            s30 = x3.fma(y0, s30);
            s31 = x3.fma(y1, s31);
            s32 = x3.fma(y2, s32);
            s33 = x3.fma(y3, s33);
        }
        finish(acc, c, ci, 1, 4, Simd.sumLanes(s00), Simd.sumLanes(s01), Simd.sumLanes(s02),
                Simd.sumLanes(s03), x, x0i, y, y0i, y1i, y2i, y3i, kb, k);
        finish(acc, c, ci + ldc, 1, 4, Simd.sumLanes(s10), Simd.sumLanes(s11), Simd.sumLanes(s12),
                Simd.sumLanes(s13), x, x1i, y, y0i, y1i, y2i, y3i, kb, k);
        finish(acc, c, ci + 2 * ldc, 1, 4, Simd.sumLanes(s20), Simd.sumLanes(s21), Simd.sumLanes(s22),
                Simd.sumLanes(s23), x, x2i, y, y0i, y1i, y2i, y3i, kb, k);
        finish(acc, c, ci + 3 * ldc, 1, 4, Simd.sumLanes(s30), Simd.sumLanes(s31), Simd.sumLanes(s32),
                Simd.sumLanes(s33), x, x3i, y, y0i, y1i, y2i, y3i, kb, k);
    }

    /**
     * One row of X (from {@code xi}) against {@code nj <= 4} rows of Y (from {@code yi}; missing ones
     * repeat the last), stored {@code cs} apart from {@code c[ci]}.
     */
    private static void dot1x4(boolean acc, float[] c, int ci, int cs, float[] x, int xi,
                               float[] y, int yi, int ldy, int nj, int k) {
        int y0i = yi;
        int y1i = yi + Math.min(1, nj - 1) * ldy;
        int y2i = yi + Math.min(2, nj - 1) * ldy;
        int y3i = yi + Math.min(3, nj - 1) * ldy;
        FloatVector z = FloatVector.zero(F);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        int kb = F.loopBound(k);
        for (int p = 0; p < kb; p += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xi + p);
            s0 = x0.fma(FloatVector.fromArray(F, y, y0i + p), s0);
            s1 = x0.fma(FloatVector.fromArray(F, y, y1i + p), s1);
            s2 = x0.fma(FloatVector.fromArray(F, y, y2i + p), s2);
            s3 = x0.fma(FloatVector.fromArray(F, y, y3i + p), s3);
        }
        finish(acc, c, ci, cs, nj, Simd.sumLanes(s0), Simd.sumLanes(s1), Simd.sumLanes(s2), Simd.sumLanes(s3),
                x, xi, y, y0i, y1i, y2i, y3i, kb, k);
    }

    /** Adds the scalar tails {@code [kb, k)} to four dot products and stores {@code nj} of them, {@code cs} apart. */
    private static void finish(boolean acc, float[] c, int ci, int cs, int nj, float s0, float s1,
                               float s2, float s3, float[] x, int xi, float[] y,
                               int y0i, int y1i, int y2i, int y3i, int kb, int k) {
        put(acc, c, ci, s0 + tail(x, xi, y, y0i, kb, k));
        if (nj > 1) {
            put(acc, c, ci + cs, s1 + tail(x, xi, y, y1i, kb, k));
        }
        if (nj > 2) {
            put(acc, c, ci + 2 * cs, s2 + tail(x, xi, y, y2i, kb, k));
        }
        if (nj > 3) {
            put(acc, c, ci + 3 * cs, s3 + tail(x, xi, y, y3i, kb, k));
        }
    }

    private static float tail(float[] x, int xi, float[] y, int yi, int kb, int k) {
        float s = 0f;
        for (int p = kb; p < k; p++) {
            s = Math.fma(x[xi + p], y[yi + p], s);
        }
        return s;
    }

    private static void put(boolean acc, float[] c, int ci, float v) {
        c[ci] = acc ? c[ci] + v : v;
    }
}
