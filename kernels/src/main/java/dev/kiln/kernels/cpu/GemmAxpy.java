package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.F;
import static dev.kiln.kernels.cpu.GemmMicro.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Broadcast-times-row (axpy) sweeps for the direct GEMM: output rows
 * {@code out_q[0, w) (=|+=) sum_p s_q(p) * r[rOff + p*ldr, ... + w)}, each coefficient broadcast and
 * multiplied with a row of {@code r}, {@code W} columns kept in registers at a time. Vectors never
 * cross a call to a plain helper (C2 may decline to inline it and would box them).
 */
final class GemmAxpy {
    /** Columns per register-blocked sweep. */
    static final int W = 4 * L;

    private GemmAxpy() {
    }

    /** One output row: {@code out[o, o+w) (=|+=) sum_p s[sOff + p*sStride] * r[rOff + p*ldr, ... + w)}. */
    static void row(boolean acc, float[] out, int o, float[] s, int sOff, int sStride,
                    float[] r, int rOff, int ldr, int w, int k) {
        int j = 0;
        for (; j + W <= w; j += W) {
            FloatVector z = FloatVector.zero(F);
            FloatVector u0 = z, u1 = z, u2 = z, u3 = z;
            for (int p = 0, si = sOff, rp = rOff + j; p < k; p++, si += sStride, rp += ldr) {
                FloatVector c = FloatVector.broadcast(F, s[si]);
                u0 = c.fma(FloatVector.fromArray(F, r, rp), u0);
                u1 = c.fma(FloatVector.fromArray(F, r, rp + L), u1);
                u2 = c.fma(FloatVector.fromArray(F, r, rp + 2 * L), u2);
                u3 = c.fma(FloatVector.fromArray(F, r, rp + 3 * L), u3);
            }
            int q = o + j;
            if (acc) {
                u0.add(FloatVector.fromArray(F, out, q)).intoArray(out, q);
                u1.add(FloatVector.fromArray(F, out, q + L)).intoArray(out, q + L);
                u2.add(FloatVector.fromArray(F, out, q + 2 * L)).intoArray(out, q + 2 * L);
                u3.add(FloatVector.fromArray(F, out, q + 3 * L)).intoArray(out, q + 3 * L);
            } else {
                u0.intoArray(out, q);
                u1.intoArray(out, q + L);
                u2.intoArray(out, q + 2 * L);
                u3.intoArray(out, q + 3 * L);
            }
        }
        for (; j < w; j += L) {
            VectorMask<Float> mask = F.indexInRange(j, w);
            FloatVector u = FloatVector.zero(F);
            for (int p = 0, si = sOff, rp = rOff + j; p < k; p++, si += sStride, rp += ldr) {
                u = FloatVector.broadcast(F, s[si]).fma(FloatVector.fromArray(F, r, rp, mask), u);
            }
            if (acc) {
                u.add(FloatVector.fromArray(F, out, o + j, mask)).intoArray(out, o + j, mask);
            } else {
                u.intoArray(out, o + j, mask);
            }
        }
    }

    /**
     * Up to four output rows sharing the sweep over {@code r}: row {@code q < rows} starts at
     * {@code out[o[q]]} with coefficients {@code s[so[q] + p*sStride]}. Entries {@code q >= rows} of
     * {@code o} and {@code so} must still be valid offsets (repeat the last row): they are computed
     * and dropped.
     */
    static void rows4(boolean acc, int rows, float[] out, int[] o, float[] s, int[] so, int sStride,
                      float[] r, int rOff, int ldr, int w, int k) {
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3];
        int s0 = so[0], s1 = so[1], s2 = so[2], s3 = so[3];
        int j = 0;
        for (; j + W <= w; j += W) {
            FloatVector z = FloatVector.zero(F);
            FloatVector u00 = z, u01 = z, u02 = z, u03 = z, u10 = z, u11 = z, u12 = z, u13 = z;
            FloatVector u20 = z, u21 = z, u22 = z, u23 = z, u30 = z, u31 = z, u32 = z, u33 = z;
            for (int p = 0, sp = 0, rp = rOff + j; p < k; p++, sp += sStride, rp += ldr) {
                FloatVector r0 = FloatVector.fromArray(F, r, rp);
                FloatVector r1 = FloatVector.fromArray(F, r, rp + L);
                FloatVector r2 = FloatVector.fromArray(F, r, rp + 2 * L);
                FloatVector r3 = FloatVector.fromArray(F, r, rp + 3 * L);
                FloatVector c0 = FloatVector.broadcast(F, s[s0 + sp]);
                u00 = c0.fma(r0, u00);
                u01 = c0.fma(r1, u01);
                u02 = c0.fma(r2, u02);
                u03 = c0.fma(r3, u03);
                FloatVector c1 = FloatVector.broadcast(F, s[s1 + sp]);
                u10 = c1.fma(r0, u10);
                u11 = c1.fma(r1, u11);
                u12 = c1.fma(r2, u12);
                u13 = c1.fma(r3, u13);
                FloatVector c2 = FloatVector.broadcast(F, s[s2 + sp]);
                u20 = c2.fma(r0, u20);
                u21 = c2.fma(r1, u21);
                u22 = c2.fma(r2, u22);
                u23 = c2.fma(r3, u23);
                FloatVector c3 = FloatVector.broadcast(F, s[s3 + sp]);
                u30 = c3.fma(r0, u30);
                u31 = c3.fma(r1, u31);
                u32 = c3.fma(r2, u32);
                u33 = c3.fma(r3, u33);
            }
            if (acc) {
                u00.add(FloatVector.fromArray(F, out, o0 + j)).intoArray(out, o0 + j);
                u01.add(FloatVector.fromArray(F, out, o0 + j + L)).intoArray(out, o0 + j + L);
                u02.add(FloatVector.fromArray(F, out, o0 + j + 2 * L)).intoArray(out, o0 + j + 2 * L);
                u03.add(FloatVector.fromArray(F, out, o0 + j + 3 * L)).intoArray(out, o0 + j + 3 * L);
                if (rows > 1) {
                    u10.add(FloatVector.fromArray(F, out, o1 + j)).intoArray(out, o1 + j);
                    u11.add(FloatVector.fromArray(F, out, o1 + j + L)).intoArray(out, o1 + j + L);
                    u12.add(FloatVector.fromArray(F, out, o1 + j + 2 * L)).intoArray(out, o1 + j + 2 * L);
                    u13.add(FloatVector.fromArray(F, out, o1 + j + 3 * L)).intoArray(out, o1 + j + 3 * L);
                }
                if (rows > 2) {
                    u20.add(FloatVector.fromArray(F, out, o2 + j)).intoArray(out, o2 + j);
                    u21.add(FloatVector.fromArray(F, out, o2 + j + L)).intoArray(out, o2 + j + L);
                    u22.add(FloatVector.fromArray(F, out, o2 + j + 2 * L)).intoArray(out, o2 + j + 2 * L);
                    u23.add(FloatVector.fromArray(F, out, o2 + j + 3 * L)).intoArray(out, o2 + j + 3 * L);
                }
                if (rows > 3) {
                    u30.add(FloatVector.fromArray(F, out, o3 + j)).intoArray(out, o3 + j);
                    u31.add(FloatVector.fromArray(F, out, o3 + j + L)).intoArray(out, o3 + j + L);
                    u32.add(FloatVector.fromArray(F, out, o3 + j + 2 * L)).intoArray(out, o3 + j + 2 * L);
                    u33.add(FloatVector.fromArray(F, out, o3 + j + 3 * L)).intoArray(out, o3 + j + 3 * L);
                }
            } else {
                u00.intoArray(out, o0 + j);
                u01.intoArray(out, o0 + j + L);
                u02.intoArray(out, o0 + j + 2 * L);
                u03.intoArray(out, o0 + j + 3 * L);
                if (rows > 1) {
                    u10.intoArray(out, o1 + j);
                    u11.intoArray(out, o1 + j + L);
                    u12.intoArray(out, o1 + j + 2 * L);
                    u13.intoArray(out, o1 + j + 3 * L);
                }
                if (rows > 2) {
                    u20.intoArray(out, o2 + j);
                    u21.intoArray(out, o2 + j + L);
                    u22.intoArray(out, o2 + j + 2 * L);
                    u23.intoArray(out, o2 + j + 3 * L);
                }
                if (rows > 3) {
                    u30.intoArray(out, o3 + j);
                    u31.intoArray(out, o3 + j + L);
                    u32.intoArray(out, o3 + j + 2 * L);
                    u33.intoArray(out, o3 + j + 3 * L);
                }
            }
        }
        for (; j < w; j += L) {
            VectorMask<Float> mask = F.indexInRange(j, w);
            FloatVector z = FloatVector.zero(F);
            FloatVector u0 = z, u1 = z, u2 = z, u3 = z;
            for (int p = 0, sp = 0, rp = rOff + j; p < k; p++, sp += sStride, rp += ldr) {
                FloatVector rv = FloatVector.fromArray(F, r, rp, mask);
                u0 = FloatVector.broadcast(F, s[s0 + sp]).fma(rv, u0);
                u1 = FloatVector.broadcast(F, s[s1 + sp]).fma(rv, u1);
                u2 = FloatVector.broadcast(F, s[s2 + sp]).fma(rv, u2);
                u3 = FloatVector.broadcast(F, s[s3 + sp]).fma(rv, u3);
            }
            if (acc) {
                u0.add(FloatVector.fromArray(F, out, o0 + j, mask)).intoArray(out, o0 + j, mask);
                if (rows > 1) {
                    u1.add(FloatVector.fromArray(F, out, o1 + j, mask)).intoArray(out, o1 + j, mask);
                }
                if (rows > 2) {
                    u2.add(FloatVector.fromArray(F, out, o2 + j, mask)).intoArray(out, o2 + j, mask);
                }
                if (rows > 3) {
                    u3.add(FloatVector.fromArray(F, out, o3 + j, mask)).intoArray(out, o3 + j, mask);
                }
            } else {
                u0.intoArray(out, o0 + j, mask);
                if (rows > 1) {
                    u1.intoArray(out, o1 + j, mask);
                }
                if (rows > 2) {
                    u2.intoArray(out, o2 + j, mask);
                }
                if (rows > 3) {
                    u3.intoArray(out, o3 + j, mask);
                }
            }
        }
    }
}
