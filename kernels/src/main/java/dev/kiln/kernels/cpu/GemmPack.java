package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.F;
import static dev.kiln.kernels.cpu.GemmMicro.L;
import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import jdk.incubator.vector.FloatVector;

/**
 * Packing for the blocked GEMM: copies a block of {@code op(A)} into {@code MR}-high row strips
 * and a panel of {@code op(B)} into {@code NR}-wide column strips, whatever the transposition, so
 * that the micro-kernel reads both with unit stride. Partial strips are padded with zeros.
 */
final class GemmPack {
    private GemmPack() {
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    static final class Buffers {
        private static final ThreadLocal<Buffers> LOCAL = ThreadLocal.withInitial(Buffers::new);

        private float[] a = new float[0];
        private float[] b = new float[0];
        /** One {@code MR x NR} tile for edge tiles of C. */
        final float[] tile = new float[MR * NR];

        static Buffers get() {
            return LOCAL.get();
        }

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] b(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }

    /**
     * Packs {@code op(A)[i0 : i0+mc, p0 : p0+kc]} into {@code ap}: strip {@code s} holds rows
     * {@code i0 + s*MR ...} as {@code ap[s*MR*kc + p*MR + i]}.
     */
    static void packA(float[] ap, boolean transA, float[] a, int aOff, int lda, int i0, int p0, int mc, int kc) {
        for (int s = 0; s < mc; s += MR) {
            int mr = Math.min(MR, mc - s);
            int base = s * kc;
            if (transA) {
                int src = aOff + p0 * lda + i0 + s;
                for (int p = 0; p < kc; p++, src += lda) {
                    int dst = base + p * MR;
                    for (int i = 0; i < mr; i++) {
                        ap[dst + i] = a[src + i];
                    }
                }
            } else {
                for (int i = 0; i < mr; i++) {
                    int src = aOff + (i0 + s + i) * lda + p0;
                    for (int p = 0, dst = base + i; p < kc; p++, dst += MR) {
                        ap[dst] = a[src + p];
                    }
                }
            }
            if (mr < MR) {
                for (int p = 0; p < kc; p++) {
                    for (int i = mr; i < MR; i++) {
                        ap[base + p * MR + i] = 0f;
                    }
                }
            }
        }
    }

    /** {@code {0, ld, 2*ld, ... (NR-1)*ld}}: gather offsets of one strip of rows. */
    static int[] rowOffsets(int ld) {
        int[] rows = new int[NR];
        for (int j = 0; j < NR; j++) {
            rows[j] = j * ld;
        }
        return rows;
    }

    /**
     * Packs {@code op(B)[p0 : p0+kc, j0 : j0+nc]} into {@code bp}: strip {@code s} holds columns
     * {@code j0 + s*NR ...} as {@code bp[s*NR*kc + p*NR + j]}. With {@code transB}, full strips are
     * gathered with {@code rows = {0, ldb, 2*ldb, ...}} ({@link #rowOffsets}).
     */
    static void packB(float[] bp, boolean transB, float[] b, int bOff, int ldb, int p0, int j0, int kc, int nc,
                      int[] rows) {
        for (int s = 0; s < nc; s += NR) {
            int nr = Math.min(NR, nc - s);
            int base = s * kc;
            if (transB && nr == NR) {
                int src = bOff + (j0 + s) * ldb + p0;
                for (int p = 0, dst = base; p < kc; p++, dst += NR) {
                    FloatVector.fromArray(F, b, src + p, rows, 0).intoArray(bp, dst);
                    FloatVector.fromArray(F, b, src + p, rows, L).intoArray(bp, dst + L);
                }
            } else if (transB) {
                for (int j = 0; j < nr; j++) {
                    int src = bOff + (j0 + s + j) * ldb + p0;
                    for (int p = 0, dst = base + j; p < kc; p++, dst += NR) {
                        bp[dst] = b[src + p];
                    }
                }
            } else if (nr == NR) {
                int src = bOff + p0 * ldb + j0 + s;
                for (int p = 0, dst = base; p < kc; p++, src += ldb, dst += NR) {
                    FloatVector.fromArray(F, b, src).intoArray(bp, dst);
                    FloatVector.fromArray(F, b, src + L).intoArray(bp, dst + L);
                }
            } else {
                int src = bOff + p0 * ldb + j0 + s;
                for (int p = 0, dst = base; p < kc; p++, src += ldb, dst += NR) {
                    for (int j = 0; j < nr; j++) {
                        bp[dst + j] = b[src + j];
                    }
                }
            }
            if (nr < NR) {
                for (int p = 0; p < kc; p++) {
                    for (int j = nr; j < NR; j++) {
                        bp[base + p * NR + j] = 0f;
                    }
                }
            }
        }
    }
}
