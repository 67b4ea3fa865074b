package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.LT;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel: one {@code MR x NR} tile of C from packed strips, with the
 * {@code MR * 2} accumulators in local vectors so that C2 keeps them in registers.
 *
 * <p>Everything is written out in the method body on purpose: a helper taking vectors that C2
 * declines to inline (it stops inlining past a node budget, which the Vector API reaches fast)
 * boxes them, and that made the kernel eight times slower.
 */
final class GemmMicro {
    static final VectorSpecies<Float> F = Simd.F;
    /** Floats per vector. */
    static final int L = F.length();
    /**
     * Rows of a tile (and of a packed A strip): 8 with 32 vector registers (AVX-512: 16
     * accumulators, two B vectors and a broadcast), 5 with 16 (AVX2: 10 accumulators). Measured on
     * Zen 1 (AVX2, 47 GFLOP/s peak), tiles over packed strips in L1/L2, 1 thread: 8 rows 30-31
     * GFLOP/s (C2 spills accumulators to the stack every k step), 6 rows 37-38 (one accumulator
     * spilled: 12 + 2 B vectors + the broadcasts C2 hoists pass 16 registers), 5 rows 44.5-46,
     * 4 rows 44-46.5; sgemm 1024^3 32.7 (8 rows) -> 36.4 (6) -> 43.3 (5) or 43.7 (4). Five rather
     * than four: ten independent accumulators are what two FMA pipes of latency 5 need where a
     * 256-bit FMA is one operation (Haswell, Zen 2; not measured here: Zen 1 splits it in two).
     */
    static final int MR = Simd.REGISTERS >= 32 ? 8 : 5;
    /** Columns of a tile (and of a packed B strip): two vectors. */
    static final int NR = 2 * L;

    private GemmMicro() {
    }

    /**
     * {@code C[MR, NR] (=|+=) Ap * Bp} where {@code Ap} holds {@code kc} columns of {@code MR} floats
     * ({@code ap[ai + p*MR + i]}) and {@code Bp} holds {@code kc} rows of {@code NR} floats
     * ({@code bp[bi + p*NR + j]}); C row {@code i} starts at {@code c[ci + i*ldc]}. Reads C only when
     * {@code load}. The epilogue then adds {@code bias[bo + j]} to column {@code j} when {@code bias}
     * is not null and clamps negatives to zero when {@code relu} (as {@code v < 0 ? 0 : v}, NaN kept),
     * in that order: the same float operations as the unfused product, bias add and ReLU.
     *
     * <p>There is no narrower variant for the last strip of a panel on purpose: a second, rarely
     * called kernel ran for seconds in C1 (100 times slower with vectors) before C2 compiled it, and
     * one method holding both variants ran the narrow one 30 times slower even after C2 compiled it.
     */
    static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, boolean load,
                       float[] bias, int bo, boolean relu) {
        kernel(kc, ap, ai, bp, bi, NR, c, ci, ldc, load, bias, bo, relu);
    }

    /**
     * {@link #kernel} with the rows of B {@code bs} floats apart ({@code bp[bi + p*bs + j]}): {@code NR}
     * for a packed strip, or the leading dimension of an untransposed B read in place.
     */
    static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, int bs, float[] c, int ci, int ldc,
                       boolean load, float[] bias, int bo, boolean relu) {
        kernel(kc, ap, ai, MR, bp, bi, bs, c, ci, ldc, load, bias, bo, relu);
    }

    /**
     * {@link #kernel} with the columns of A {@code as} floats apart ({@code ap[ai + p*as + i]}):
     * {@code MR} for a packed strip, or the row length of a k-major A read in place (Winograd's
     * weight gradient: tiles by channels).
     */
    static void kernel(int kc, float[] ap, int ai, int as, float[] bp, int bi, int bs, float[] c, int ci, int ldc,
                       boolean load, float[] bias, int bo, boolean relu) {
        if (MR != 8) {
            kernel5(kc, ap, ai, as, bp, bi, bs, c, ci, ldc, load, bias, bo, relu);
            return;
        }
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector a = FloatVector.broadcast(F, ap[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(F, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(F, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(F, ap[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(F, ap[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(F, ap[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
            ai += as;
            bi += bs;
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
        if (bias != null) {
            FloatVector v0 = FloatVector.fromArray(F, bias, bo);
            FloatVector v1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(v0);
            c01 = c01.add(v1);
            c10 = c10.add(v0);
            c11 = c11.add(v1);
            c20 = c20.add(v0);
            c21 = c21.add(v1);
            c30 = c30.add(v0);
            c31 = c31.add(v1);
            c40 = c40.add(v0);
            c41 = c41.add(v1);
            c50 = c50.add(v0);
            c51 = c51.add(v1);
            c60 = c60.add(v0);
            c61 = c61.add(v1);
            c70 = c70.add(v0);
            c71 = c71.add(v1);
        }
        if (relu) {
            c00 = c00.blend(0f, c00.compare(LT, 0f));
            c01 = c01.blend(0f, c01.compare(LT, 0f));
            c10 = c10.blend(0f, c10.compare(LT, 0f));
            c11 = c11.blend(0f, c11.compare(LT, 0f));
            c20 = c20.blend(0f, c20.compare(LT, 0f));
            c21 = c21.blend(0f, c21.compare(LT, 0f));
            c30 = c30.blend(0f, c30.compare(LT, 0f));
            c31 = c31.blend(0f, c31.compare(LT, 0f));
            c40 = c40.blend(0f, c40.compare(LT, 0f));
            c41 = c41.blend(0f, c41.compare(LT, 0f));
            c50 = c50.blend(0f, c50.compare(LT, 0f));
            c51 = c51.blend(0f, c51.compare(LT, 0f));
            c60 = c60.blend(0f, c60.compare(LT, 0f));
            c61 = c61.blend(0f, c61.compare(LT, 0f));
            c70 = c70.blend(0f, c70.compare(LT, 0f));
            c71 = c71.blend(0f, c71.compare(LT, 0f));
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
     * {@link #kernel} for 5-row tiles ({@code MR == 5}): the same loop and epilogue with 10
     * accumulators, for machines with 16 vector registers.
     */
    private static void kernel5(int kc, float[] ap, int ai, int as, float[] bp, int bi, int bs, float[] c, int ci, int ldc,
                                boolean load, float[] bias, int bo, boolean relu) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector a = FloatVector.broadcast(F, ap[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(F, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(F, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            ai += as;
            bi += bs;
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
        if (bias != null) {
            FloatVector v0 = FloatVector.fromArray(F, bias, bo);
            FloatVector v1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(v0);
            c01 = c01.add(v1);
            c10 = c10.add(v0);
            c11 = c11.add(v1);
            c20 = c20.add(v0);
            c21 = c21.add(v1);
            c30 = c30.add(v0);
            c31 = c31.add(v1);
            c40 = c40.add(v0);
            c41 = c41.add(v1);
        }
        if (relu) {
            c00 = c00.blend(0f, c00.compare(LT, 0f));
            c01 = c01.blend(0f, c01.compare(LT, 0f));
            c10 = c10.blend(0f, c10.compare(LT, 0f));
            c11 = c11.blend(0f, c11.compare(LT, 0f));
            c20 = c20.blend(0f, c20.compare(LT, 0f));
            c21 = c21.blend(0f, c21.compare(LT, 0f));
            c30 = c30.blend(0f, c30.compare(LT, 0f));
            c31 = c31.blend(0f, c31.compare(LT, 0f));
            c40 = c40.blend(0f, c40.compare(LT, 0f));
            c41 = c41.blend(0f, c41.compare(LT, 0f));
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
}
