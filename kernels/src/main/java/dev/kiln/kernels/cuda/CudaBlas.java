package dev.kiln.kernels.cuda;

/**
 * Launches of the matrix-product kernels: fp32 GEMM on CUDA cores (gemm.cu), TF32 / BF16 GEMM on
 * tensor cores with fp32 accumulation (gemm_tc.cu), int8 GEMM on tensor cores (igemm.cu) and CSR
 * sparse x dense (spmm.cu). Row-major, leading dims given; device addresses.
 */
public final class CudaBlas {
    /** Input precision of {@link #gemm}. */
    public enum Precision {
        /** fp32 FMA on CUDA cores. */
        FP32,
        /** Inputs rounded to TF32 (10-bit mantissa), tensor cores, fp32 accumulation. */
        TF32,
        /** Inputs rounded to BF16, tensor cores, fp32 accumulation. */
        BF16
    }

    /** Bias of a GEMM: none, {@code bias[j]} per output column (Linear), {@code bias[i]} per output row (conv). */
    public enum Bias { NONE, PER_COLUMN, PER_ROW }

    /** Dims, leading dims, batching and flags of one GEMM call. */
    public record GemmShape(int m, int n, int k, boolean transA, boolean transB, int lda, int ldb, int ldc,
                            int batch, long strideA, long strideB, long strideC) {
        public GemmShape {
            if (m < 0 || n < 0 || k < 0 || batch < 1) {
                throw new IllegalArgumentException("gemm: expected m, n, k >= 0 and batch >= 1, got m " + m + ", n " + n
                        + ", k " + k + ", batch " + batch);
            }
            need("lda", lda, transA ? m : k);
            need("ldb", ldb, transB ? k : n);
            need("ldc", ldc, n);
            if (strideA < 0 || strideB < 0 || strideC < 0) {
                throw new IllegalArgumentException("gemm: expected batch strides >= 0, got " + strideA + ", " + strideB + ", " + strideC);
            }
        }

        private static void need(String name, int ld, int rowLength) {
            if (ld < Math.max(1, rowLength)) {
                throw new IllegalArgumentException("gemm: expected " + name + " >= " + Math.max(1, rowLength) + ", got " + ld);
            }
        }

        /** One row-major product C[m,n] = op(A) op(B) with dense leading dims. */
        public static GemmShape of(int m, int n, int k, boolean transA, boolean transB) {
            return new GemmShape(m, n, k, transA, transB, transA ? m : k, transB ? k : n, n, 1, 0, 0, 0);
        }
    }

    private CudaBlas() {
    }

    /**
     * C[b] (+)= op(A[b]) op(B[b]) (+ bias) for each batch b; op(A) [m,k], op(B) [k,n], C [m,n].
     * {@code bias} is 0 for none.
     */
    public static void gemm(CudaDevice d, Precision p, long c, long a, long b, long bias, Bias biasMode, boolean accumulate,
                            GemmShape s) {
        if (s.m() == 0 || s.n() == 0) {
            return;
        }
        if (bias == 0 && biasMode != Bias.NONE) {
            throw new IllegalArgumentException("gemm: bias mode " + biasMode + " needs a bias pointer, got 0");
        }
        String kernel;
        int tile;
        switch (p) {
            case TF32 -> { kernel = "kiln_gemm_tf32"; tile = 128; }
            case BF16 -> { kernel = "kiln_gemm_bf16"; tile = 128; }
            default -> {
                boolean large = (long) s.m() * s.n() * s.batch() >= 256L * 128 * 128;
                kernel = large ? "kiln_sgemm128" : "kiln_sgemm64";
                tile = large ? 128 : 64;
            }
        }
        Launch.of(d, p == Precision.FP32 ? "gemm" : "gemm_tc", kernel)
                .grid((s.n() + tile - 1) / tile, (s.m() + tile - 1) / tile, s.batch()).block(256)
                .ptr(c).ptr(a).ptr(b).ptr(bias).i32(s.m()).i32(s.n()).i32(s.k()).i32(s.lda()).i32(s.ldb()).i32(s.ldc())
                .i64(s.strideA()).i64(s.strideB()).i64(s.strideC()).i32(s.transA() ? 1 : 0).i32(s.transB() ? 1 : 0)
                .i32(biasMode.ordinal()).i32(accumulate ? 1 : 0).run();
    }

    /**
     * int8 GEMM, dequantized: y[i,j] = scaleA * scaleB[j or 0] * (sum_p A[i,p]*B[j,p] - zpA*bSum[j]) + bias[j];
     * A int8 [m,k], B int8 [n,k] (a weight), bSum int32 [n] (read only when zpA != 0), scaleB fp32 of
     * nScaleB = 1 or n values, bias fp32 [n] or 0. With {@code raw} y receives the int32 sums instead.
     */
    public static void gemmInt8(CudaDevice d, long y, int ldy, long a, int lda, long b, int ldb, long bSum, long scaleB,
                                int nScaleB, long bias, float scaleA, int zpA, int m, int n, int k, boolean raw) {
        if (m < 0 || n < 0 || k < 0 || lda < Math.max(1, k) || ldb < Math.max(1, k) || ldy < Math.max(1, n)) {
            throw new IllegalArgumentException("gemmInt8: expected m, n, k >= 0, lda, ldb >= k and ldy >= n, got m " + m + ", n " + n
                    + ", k " + k + ", lda " + lda + ", ldb " + ldb + ", ldy " + ldy);
        }
        if (!raw && (nScaleB != 1 && nScaleB != n)) {
            throw new IllegalArgumentException("gemmInt8: expected 1 or n = " + n + " weight scales, got " + nScaleB);
        }
        if (zpA != 0 && bSum == 0) {
            throw new IllegalArgumentException("gemmInt8: a zero point " + zpA + " needs the weight row sums, got 0");
        }
        if (m == 0 || n == 0) {
            return;
        }
        Launch.of(d, "igemm", "kiln_igemm").grid((n + 127) / 128, (m + 127) / 128, 1).block(256)
                .ptr(y).ptr(a).ptr(b).ptr(bSum).ptr(scaleB).ptr(bias).f32(scaleA).i32(zpA).i32(nScaleB)
                .i32(m).i32(n).i32(k).i32(lda).i32(ldb).i32(ldy).i32(raw ? 1 : 0).run();
    }

    /** Y[m,n] (+)= S[m,k] X[k,n]; S in CSR (rowPtr int32 [m+1], colIdx int32, values fp32). */
    public static void spmmCsr(CudaDevice d, long y, int ldy, long rowPtr, long colIdx, long values, long x, int ldx,
                               int m, int n, boolean accumulate) {
        if (m < 0 || n < 0 || ldx < Math.max(1, n) || ldy < Math.max(1, n)) {
            throw new IllegalArgumentException("spmmCsr: expected m, n >= 0 and ldx, ldy >= n, got m " + m + ", n " + n
                    + ", ldx " + ldx + ", ldy " + ldy);
        }
        if (m == 0 || n == 0) {
            return;
        }
        Launch.of(d, "spmm", "kiln_spmm_csr").grid((n + 127) / 128, (m + 7) / 8, 1).block(256)
                .ptr(y).ptr(rowPtr).ptr(colIdx).ptr(values).ptr(x).i32(m).i32(n).i32(ldx).i32(ldy).i32(accumulate ? 1 : 0).run();
    }
}
