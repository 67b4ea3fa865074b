package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.L;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernel of {@link ConvDirect}: one {@code 8 x NR} tile of C as in {@link GemmMicro},
 * but the 8 values of A for reduction step {@code r} are read straight from an image,
 * 8 consecutive floats at {@code a[idx[io + r] + base]}, instead of from a packed strip.
 * The offsets {@code idx} hold the gather pattern of the convolution (a tap's offset in a padded
 * image, or a position's offset in a channels-last one), so A needs no packing at all.
 */
final class ConvMicro {
    private static final VectorSpecies<Float> F = Simd.F;

    private ConvMicro() {
    }

    /**
     * {@code C[i, j] (=|+=) sum_{r < kc} a[idx[io + r] + base + i] * bp[bi + r*NR + j]} for
     * {@code i < 8}, {@code j < NR}; C row {@code i} at {@code c[ci + i*ldc]}; reads C only when
     * {@code load}. Every value is one fused multiply-add chain over {@code r} in order.
     */
    static void kernel(int kc, float[] a, int[] idx, int io, int base, float[] bp, int bi, float[] c, int ci,
                       int ldc, boolean load) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int r = 0; r < kc; r++) {
            int ai = idx[io + r] + base;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector v = FloatVector.broadcast(F, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(F, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(F, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(F, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(F, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(F, a[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            v = FloatVector.broadcast(F, a[ai + 6]);
            c60 = v.fma(b0, c60);
            c61 = v.fma(b1, c61);
            v = FloatVector.broadcast(F, a[ai + 7]);
            c70 = v.fma(b0, c70);
            c71 = v.fma(b1, c71);
            bi += NR;
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        int r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        if (load) {
            c00 = c00.add(FloatVector.fromArray(F, c, r0));
            c01 = c01.add(FloatVector.fromArray(F, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1));
            c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2));
            c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3));
            c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(F, c, r4));
            c41 = c41.add(FloatVector.fromArray(F, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(F, c, r5));
            c51 = c51.add(FloatVector.fromArray(F, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(F, c, r6));
            c61 = c61.add(FloatVector.fromArray(F, c, r6 + L));
            c70 = c70.add(FloatVector.fromArray(F, c, r7));
            c71 = c71.add(FloatVector.fromArray(F, c, r7 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /**
     * {@link #kernel} with 7 rows ({@code i < 7}): rows of 7 consecutive outputs tile widths such
     * as 7, 14 and 28, which rows of 8 do not. 14 accumulators; the same chain per value.
     */
    static void kernel7(int kc, float[] a, int[] idx, int io, int base, float[] bp, int bi, float[] c, int ci,
                        int ldc, boolean load) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z;
        for (int r = 0; r < kc; r++) {
            int ai = idx[io + r] + base;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector v = FloatVector.broadcast(F, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(F, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(F, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(F, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(F, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(F, a[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            v = FloatVector.broadcast(F, a[ai + 6]);
            c60 = v.fma(b0, c60);
            c61 = v.fma(b1, c61);
            bi += NR;
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        int r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc;
        if (load) {
            c00 = c00.add(FloatVector.fromArray(F, c, r0));
            c01 = c01.add(FloatVector.fromArray(F, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1));
            c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2));
            c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3));
            c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(F, c, r4));
            c41 = c41.add(FloatVector.fromArray(F, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(F, c, r5));
            c51 = c51.add(FloatVector.fromArray(F, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(F, c, r6));
            c61 = c61.add(FloatVector.fromArray(F, c, r6 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
    }

    /**
     * {@link #kernel} with 5 rows ({@code i < 5}) for machines with 16 vector registers (AVX2): 10
     * accumulators, as {@link GemmMicro}'s 5-row tile. The same chain per value.
     */
    static void kernel5(int kc, float[] a, int[] idx, int io, int base, float[] bp, int bi, float[] c, int ci,
                        int ldc, boolean load) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        for (int r = 0; r < kc; r++) {
            int ai = idx[io + r] + base;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector v = FloatVector.broadcast(F, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(F, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(F, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(F, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(F, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            bi += NR;
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        int r4 = r3 + ldc;
        if (load) {
            c00 = c00.add(FloatVector.fromArray(F, c, r0));
            c01 = c01.add(FloatVector.fromArray(F, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1));
            c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2));
            c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3));
            c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(F, c, r4));
            c41 = c41.add(FloatVector.fromArray(F, c, r4 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
    }

    /**
     * {@code C[i, j] (=|+=) sum_{r < kc} a[idx[io + r] + base + i] * bp[bi + r*L + j]} for {@code i < 10},
     * {@code j < L} (one vector of columns): a row of 10 outputs (LeNet-5's 10x10 maps) by {@code L}
     * channels, 10 accumulators, B packed {@code L} wide. Otherwise as {@link #kernel}.
     */
    static void kernel10(int kc, float[] a, int[] idx, int io, int base, float[] bp, int bi, float[] c, int ci,
                         int ldc, boolean load) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z;
        for (int r = 0; r < kc; r++) {
            int ai = idx[io + r] + base;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            c0 = FloatVector.broadcast(F, a[ai]).fma(b0, c0);
            c1 = FloatVector.broadcast(F, a[ai + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(F, a[ai + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(F, a[ai + 3]).fma(b0, c3);
            c4 = FloatVector.broadcast(F, a[ai + 4]).fma(b0, c4);
            c5 = FloatVector.broadcast(F, a[ai + 5]).fma(b0, c5);
            c6 = FloatVector.broadcast(F, a[ai + 6]).fma(b0, c6);
            c7 = FloatVector.broadcast(F, a[ai + 7]).fma(b0, c7);
            c8 = FloatVector.broadcast(F, a[ai + 8]).fma(b0, c8);
            c9 = FloatVector.broadcast(F, a[ai + 9]).fma(b0, c9);
            bi += L;
        }
        if (load) {
            c0 = c0.add(FloatVector.fromArray(F, c, ci));
            c1 = c1.add(FloatVector.fromArray(F, c, ci + 1 * ldc));
            c2 = c2.add(FloatVector.fromArray(F, c, ci + 2 * ldc));
            c3 = c3.add(FloatVector.fromArray(F, c, ci + 3 * ldc));
            c4 = c4.add(FloatVector.fromArray(F, c, ci + 4 * ldc));
            c5 = c5.add(FloatVector.fromArray(F, c, ci + 5 * ldc));
            c6 = c6.add(FloatVector.fromArray(F, c, ci + 6 * ldc));
            c7 = c7.add(FloatVector.fromArray(F, c, ci + 7 * ldc));
            c8 = c8.add(FloatVector.fromArray(F, c, ci + 8 * ldc));
            c9 = c9.add(FloatVector.fromArray(F, c, ci + 9 * ldc));
        }
        c0.intoArray(c, ci);
        c1.intoArray(c, ci + 1 * ldc);
        c2.intoArray(c, ci + 2 * ldc);
        c3.intoArray(c, ci + 3 * ldc);
        c4.intoArray(c, ci + 4 * ldc);
        c5.intoArray(c, ci + 5 * ldc);
        c6.intoArray(c, ci + 6 * ldc);
        c7.intoArray(c, ci + 7 * ldc);
        c8.intoArray(c, ci + 8 * ldc);
        c9.intoArray(c, ci + 9 * ldc);
    }

    /**
     * The transposed role of {@link #kernel}: {@code C[i, j] (=|+=) sum_{r < kc} ap[ai + r*8 + i] *
     * b[idx[io + r] + base + j]} for {@code i < 8}, {@code j < NR}: A packed in 8-row strips
     * ({@code ConvPacked#packA}), B's {@code NR} values for step {@code r} read straight from an image
     * at offsets from a table. C row {@code i} at {@code c[ci + i*ldc]}; reads C only when
     * {@code load}.
     */
    static void kernelB(int kc, float[] ap, int ai, float[] b, int[] idx, int io, int base, float[] c, int ci,
                        int ldc, boolean load) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int r = 0; r < kc; r++) {
            int bi = idx[io + r] + base;
            FloatVector b0 = FloatVector.fromArray(F, b, bi);
            FloatVector b1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector v = FloatVector.broadcast(F, ap[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(F, ap[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(F, ap[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(F, ap[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            v = FloatVector.broadcast(F, ap[ai + 6]);
            c60 = v.fma(b0, c60);
            c61 = v.fma(b1, c61);
            v = FloatVector.broadcast(F, ap[ai + 7]);
            c70 = v.fma(b0, c70);
            c71 = v.fma(b1, c71);
            ai += 8;
        }
        int r0 = ci, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        int r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        if (load) {
            c00 = c00.add(FloatVector.fromArray(F, c, r0));
            c01 = c01.add(FloatVector.fromArray(F, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1));
            c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2));
            c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3));
            c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(F, c, r4));
            c41 = c41.add(FloatVector.fromArray(F, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(F, c, r5));
            c51 = c51.add(FloatVector.fromArray(F, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(F, c, r6));
            c61 = c61.add(FloatVector.fromArray(F, c, r6 + L));
            c70 = c70.add(FloatVector.fromArray(F, c, r7));
            c71 = c71.add(FloatVector.fromArray(F, c, r7 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }
}
