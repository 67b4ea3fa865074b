package dev.kiln.kernels.cuda;

import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefGemm;
import dev.kiln.kernels.ref.RefQGemm;
import dev.kiln.kernels.ref.RefSparse;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** GPU matrix products against the double references on the same inputs, tail sizes included (GPU only). */
class CudaBlasTest {
    private static final int[][] SHAPES = {{1, 1, 1}, {7, 5, 3}, {31, 33, 17}, {64, 64, 64}, {65, 129, 31}, {127, 1, 255},
            {128, 128, 128}, {129, 257, 100}, {300, 200, 1000}, {513, 65, 9}};

    @Test
    void fp32Tf32Bf16GemmMatchTheReferenceInEveryLayout() {
        try (Gpu g = Gpu.open()) {
            SplittableRandom rnd = new SplittableRandom(1);
            for (CudaBlas.Precision p : CudaBlas.Precision.values()) {
                // tolerances: fp32 ~ accumulation order; TF32 10-bit and BF16 7-bit mantissas of the inputs
                double rtol = p == CudaBlas.Precision.FP32 ? 1e-4 : p == CudaBlas.Precision.TF32 ? 5e-3 : 3e-2;
                for (int[] s : SHAPES) {
                    for (int t = 0; t < 4; t++) {
                        boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                        check(g, rnd, p, s[0], s[1], s[2], ta, tb, rtol);
                    }
                }
            }
        }
    }

    private static void check(Gpu g, SplittableRandom rnd, CudaBlas.Precision p, int m, int n, int k, boolean ta, boolean tb,
                              double rtol) {
        float[] a = TestArrays.randomFloats(rnd, m * k);
        float[] b = TestArrays.randomFloats(rnd, k * n);
        float[] bias = TestArrays.randomFloats(rnd, n);
        float[] c0 = TestArrays.randomFloats(rnd, m * n);
        double[] ref = TestArrays.toDouble(c0);
        RefGemm.dgemm(true, ref, 0, n, ta, TestArrays.toDouble(a), 0, ta ? m : k, tb, TestArrays.toDouble(b), 0, tb ? k : n, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                ref[i * n + j] += bias[j];
            }
        }
        long dc = g.put(c0);
        CudaBlas.gemm(g.dev, p, dc, g.put(a), g.put(b), g.put(bias), CudaBlas.Bias.PER_COLUMN, true,
                CudaBlas.GemmShape.of(m, n, k, ta, tb));
        String what = p + " gemm " + m + "x" + n + "x" + k + (ta ? " A^T" : "") + (tb ? " B^T" : "");
        TestArrays.assertClose(what, g.floats(dc, m * n), ref, rtol * Math.sqrt(k), rtol);
    }

    @Test
    void batchedGemmWithABroadcastOperandAndRowBias() {
        try (Gpu g = Gpu.open()) {
            SplittableRandom rnd = new SplittableRandom(2);
            int batch = 3, m = 19, n = 37, k = 23;
            float[] w = TestArrays.randomFloats(rnd, m * k);
            float[] x = TestArrays.randomFloats(rnd, batch * k * n);
            float[] bias = TestArrays.randomFloats(rnd, m);
            double[] ref = new double[batch * m * n];
            RefGemm.dgemmBatched(false, ref, 0, n, (long) m * n, false, TestArrays.toDouble(w), 0, k, 0, false,
                    TestArrays.toDouble(x), 0, n, (long) k * n, batch, m, n, k);
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        ref[(t * m + i) * n + j] += bias[i];
                    }
                }
            }
            long c = g.alloc(4L * batch * m * n);
            CudaBlas.gemm(g.dev, CudaBlas.Precision.FP32, c, g.put(w), g.put(x), g.put(bias), CudaBlas.Bias.PER_ROW, false,
                    new CudaBlas.GemmShape(m, n, k, false, false, k, n, n, batch, 0, (long) k * n, (long) m * n));
            TestArrays.assertClose("batched gemm", g.floats(c, batch * m * n), ref, 1e-4, 1e-4);
        }
    }

    @Test
    void int8GemmMatchesTheReferenceExactlyInRawModeAndDequantizes() {
        try (Gpu g = Gpu.open()) {
            SplittableRandom rnd = new SplittableRandom(3);
            for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {33, 17, 65}, {128, 128, 64}, {129, 130, 131}, {256, 96, 1000}}) {
                int m = s[0], n = s[1], k = s[2];
                byte[] a = new byte[m * k];
                byte[] b = new byte[n * k];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (byte) (rnd.nextInt(256) - 128);
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) (rnd.nextInt(255) - 127);
                }
                int zp = 3;
                int[] bSum = new int[n];
                for (int j = 0; j < n; j++) {
                    for (int q = 0; q < k; q++) {
                        bSum[j] += b[j * k + q];
                    }
                }
                int[] ref = new int[m * n];
                RefQGemm.gemmS32(ref, 0, n, a, 0, k, false, zp, b, 0, k, m, n, k);
                long da = g.put(a), db = g.put(b), ds = g.put(bSum);
                long y = g.alloc(4L * m * n);
                CudaBlas.gemmInt8(g.dev, y, n, da, k, db, k, ds, 0, 1, 0, 1f, zp, m, n, k, true);
                assertArrayEquals(ref, g.ints(y, m * n), "int8 raw " + m + "x" + n + "x" + k);

                float[] scaleB = TestArrays.randomFloats(rnd, n);
                float[] bias = TestArrays.randomFloats(rnd, n);
                double[] refY = new double[m * n];
                RefQGemm.gemmDequant(refY, 0, n, a, 0, k, false, zp, 0.05, b, 0, k, TestArrays.toDouble(scaleB),
                        TestArrays.toDouble(bias), m, n, k);
                CudaBlas.gemmInt8(g.dev, y, n, da, k, db, k, ds, g.put(scaleB), n, g.put(bias), 0.05f, zp, m, n, k, false);
                TestArrays.assertClose("int8 dequant " + m + "x" + n + "x" + k, g.floats(y, m * n), refY, 1e-4, 1e-5);
            }
        }
    }

    @Test
    void csrSpmmMatchesTheReference() {
        try (Gpu g = Gpu.open()) {
            SplittableRandom rnd = new SplittableRandom(4);
            for (int[] s : new int[][] {{1, 1, 1}, {7, 9, 5}, {64, 100, 128}, {300, 257, 129}, {1024, 1024, 64}}) {
                int m = s[0], k = s[1], n = s[2];
                float[] dense = TestArrays.randomFloats(rnd, m * k);
                for (int i = 0; i < dense.length; i++) {
                    if (rnd.nextDouble() < 0.9) {
                        dense[i] = 0;
                    }
                }
                SparseCsr w = SparseCsr.fromDense(dense, 0, m, k, 0f);
                float[] x = TestArrays.randomFloats(rnd, k * n);
                double[] ref = new double[m * n];
                RefSparse.spmmCsrLeft(ref, 0, n, w, TestArrays.toDouble(x), 0, n, n, false);
                long y = g.alloc(4L * m * n);
                CudaBlas.spmmCsr(g.dev, y, n, g.put(w.rowPtr()), g.put(w.colIdx()), g.put(w.values()), g.put(x), n, m, n, false);
                TestArrays.assertClose("spmm " + m + "x" + k + "x" + n, g.floats(y, m * n), ref, 1e-5, 1e-5);
            }
        }
    }
}
