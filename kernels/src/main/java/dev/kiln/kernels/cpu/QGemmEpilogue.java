package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Where a quantized GEMM writes and how: int32 as is, dequantized to float, or requantized to
 * 8 bits (see {@link QGemm} for the arithmetic). {@link #store} takes a row-major int32 tile of raw
 * accumulators from a kernel, adds the per-row and per-column correction terms and writes the
 * tile's part of the output; the kind is switched on once per tile, never per element.
 */
record QGemmEpilogue(Kind kind, int[] c, float[] yf, byte[] yb, int off, int ld, float scaleA, float[] scaleB,
                     float[] bias, int zpY, float invScaleY, float lo, float hi) {
    /** The output kinds. */
    enum Kind { S32, DEQUANT, REQUANT }

    /** Whether the vector loops run (256-bit vectors or wider, so that 8 ints narrow to 8 bytes). */
    static final boolean VECTOR = !Simd.SCALAR && Simd.BITS >= 256;
    private static final VectorSpecies<Integer> I = Simd.I;
    private static final VectorSpecies<Float> F = Simd.F;
    /** Bytes with as many lanes as {@link #I}. */
    private static final VectorSpecies<Byte> BQ =
            VECTOR ? VectorSpecies.of(byte.class, VectorShape.forBitSize(Simd.BITS / 4)) : null;
    private static final int L = I.length();
    /** {@code 1.5 * 2^23}: adding and subtracting it rounds a float of magnitude < 2^22 half to even. */
    private static final float MAGIC = 12582912f;

    static QGemmEpilogue s32(int[] c, int off, int ld) {
        return new QGemmEpilogue(Kind.S32, c, null, null, off, ld, 0f, null, null, 0, 0f, 0f, 0f);
    }

    static QGemmEpilogue dequant(float[] y, int off, int ld, float scaleA, float[] scaleB, float[] bias) {
        return new QGemmEpilogue(Kind.DEQUANT, null, y, null, off, ld, scaleA, scaleB, bias, 0, 0f, 0f, 0f);
    }

    static QGemmEpilogue requant(byte[] y, int off, int ld, boolean yUnsigned, int zpY, float scaleY, float scaleA,
                                 float[] scaleB, float[] bias, boolean relu) {
        int qmin = yUnsigned ? 0 : -128;
        int qmax = yUnsigned ? 255 : 127;
        return new QGemmEpilogue(Kind.REQUANT, null, null, y, off, ld, scaleA, scaleB, bias, zpY, 1f / scaleY,
                relu ? 0f : qmin - zpY, qmax - zpY);
    }

    /**
     * Writes output rows {@code i0 .. i0+rows-1}, columns {@code j0 .. j0+cols-1} from
     * {@code acc = t[r*ldt + c] + rowTerm[r] - colTerm[c]}.
     */
    void store(int[] t, int ldt, int rows, int cols, int i0, int j0, int[] rowTerm, int[] colTerm,
               QGemmBuffers buf) {
        if (kind == Kind.S32) {
            storeS32(t, ldt, rows, cols, i0, j0, rowTerm, colTerm);
            return;
        }
        float[] cs = buf.colScale(cols);
        float[] cb = buf.colBias(cols);
        boolean perChannel = scaleB.length > 1;
        for (int j = 0; j < cols; j++) {
            cs[j] = scaleA * scaleB[perChannel ? j0 + j : 0];
            cb[j] = bias == null ? 0f : bias[j0 + j];
        }
        if (kind == Kind.DEQUANT) {
            storeDequant(t, ldt, rows, cols, i0, j0, rowTerm, colTerm, cs, cb);
        } else {
            storeRequant(t, ldt, rows, cols, i0, j0, rowTerm, colTerm, cs, cb);
        }
    }

    private void storeS32(int[] t, int ldt, int rows, int cols, int i0, int j0, int[] rowTerm, int[] colTerm) {
        int bound = VECTOR ? I.loopBound(cols) : 0;
        for (int r = 0; r < rows; r++) {
            int ti = r * ldt;
            int oi = off + (i0 + r) * ld + j0;
            int rt = rowTerm[r];
            int j = 0;
            for (; j < bound; j += L) {
                IntVector.fromArray(I, t, ti + j).add(rt).sub(IntVector.fromArray(I, colTerm, j)).intoArray(c, oi + j);
            }
            for (; j < cols; j++) {
                c[oi + j] = t[ti + j] + rt - colTerm[j];
            }
        }
    }

    private void storeDequant(int[] t, int ldt, int rows, int cols, int i0, int j0, int[] rowTerm, int[] colTerm,
                              float[] cs, float[] cb) {
        int bound = VECTOR ? I.loopBound(cols) : 0;
        for (int r = 0; r < rows; r++) {
            int ti = r * ldt;
            int oi = off + (i0 + r) * ld + j0;
            int rt = rowTerm[r];
            int j = 0;
            for (; j < bound; j += L) {
                IntVector acc = IntVector.fromArray(I, t, ti + j).add(rt).sub(IntVector.fromArray(I, colTerm, j));
                ((FloatVector) acc.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, cs, j), FloatVector.fromArray(F, cb, j)).intoArray(yf, oi + j);
            }
            for (; j < cols; j++) {
                yf[oi + j] = Math.fma((float) (t[ti + j] + rt - colTerm[j]), cs[j], cb[j]);
            }
        }
    }

    private void storeRequant(int[] t, int ldt, int rows, int cols, int i0, int j0, int[] rowTerm, int[] colTerm,
                              float[] cs, float[] cb) {
        int bound = VECTOR ? I.loopBound(cols) : 0;
        for (int r = 0; r < rows; r++) {
            int ti = r * ldt;
            int oi = off + (i0 + r) * ld + j0;
            int rt = rowTerm[r];
            int j = 0;
            for (; j < bound; j += L) {
                IntVector acc = IntVector.fromArray(I, t, ti + j).add(rt).sub(IntVector.fromArray(I, colTerm, j));
                FloatVector v = ((FloatVector) acc.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, cs, j), FloatVector.fromArray(F, cb, j))
                        .mul(invScaleY).max(lo).min(hi).add(MAGIC).sub(MAGIC);
                ((ByteVector) ((IntVector) v.convert(VectorOperators.F2I, 0)).add(zpY)
                        .convertShape(VectorOperators.I2B, BQ, 0)).intoArray(yb, oi + j);
            }
            for (; j < cols; j++) {
                float v = Math.fma((float) (t[ti + j] + rt - colTerm[j]), cs[j], cb[j]) * invScaleY;
                yb[oi + j] = (byte) ((int) Math.rint(Math.min(Math.max(v, lo), hi)) + zpY);
            }
        }
    }
}
