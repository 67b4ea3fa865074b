package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.QGemmKernel.L;
import static dev.kiln.kernels.cpu.QGemmKernel.MR;
import static dev.kiln.kernels.cpu.QGemmKernel.NR;

import dev.kiln.kernels.Simd;
import java.util.Arrays;

/**
 * The quantized GEMM over whole 32-row strips of the batch on 512-bit vectors: vector lanes run
 * along the rows of A, B pairs are broadcast.
 *
 * <p>Operands are made unsigned, {@code A_u = A} (uint8) or {@code A + 128} (int8) and
 * {@code B_u = B + 128}, so that {@link QGemmKernel#tile} can use its 4-op pair product. With
 * {@code z = zpA} (uint8) or {@code zpA + 128} (int8),
 * {@code acc = sum A_u B_u - 128 * rowSum(A_u) - z * colSum(B_u) + 128 * z * k} (mod 2^32, so
 * exactly the int32 result), the row and column sums coming out of the packing for free.
 *
 * <p>Per thread and block of rows ({@code MC}, sized so that the packed block stays in L2): A is
 * widened to pairs and transposed ({@code [q][row]}, 32-row strips); per block of {@code NB}
 * columns, each {@code NR}-column tile of B is widened (B stays in its {@code [n,k]} layout, no
 * transposition) and the kernel sweeps the row strips; the column-major tile is transposed back
 * and handed to the epilogue, so int32 accumulators never make a round trip through memory
 * beyond an L1-sized tile. Threads take disjoint column (or row) ranges.
 */
final class QGemmColumns {
    /** Columns per epilogue block: a multiple of {@code NR} and of 16. */
    static final int NB = 48;
    /** Bytes the packed A block may take (half of Zen 5's L2). */
    private static final int PACKED_A_BYTES = 1 << 19;
    /** Most rows of a packed A block. */
    private static final int MC_MAX = 512;

    private QGemmColumns() {
    }

    /** Whether this path takes the strips of the shape (512-bit vectors, at least one strip and one tile). */
    static boolean suits(int m, int n) {
        return !Simd.SCALAR && Simd.BITS == 512 && m >= MR && n >= NR;
    }

    /** Validated call with {@code m} a positive multiple of {@code MR} and {@code n >= NR}. */
    static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        QGemm.overBlocks(m, n, k, MR, NB, (i0, i1, j0, j1) ->
                block(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, i0, i1, j0, j1, k));
    }

    /** Output rows {@code [i0, i1)} and columns {@code [j0, j1)} on the calling thread. */
    private static void block(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                              byte[] b, int bOff, int ldb, int i0, int i1, int j0, int j1, int k) {
        QGemmBuffers buf = QGemmBuffers.get();
        int kq = (k + 1) / 2;
        int kqPad = Math.max(L, (kq + L - 1) / L * L);
        int z = aUnsigned ? zpA : zpA + 128;
        int mc = Math.clamp(PACKED_A_BYTES / (4L * kqPad) / MR * MR, MR, MC_MAX);
        int[] bw = buf.packedB(NR * kqPad);
        int[] colTerm = buf.colTerm(NB);
        for (int ic = i0; ic < i1; ic += mc) {
            int rows = Math.min(mc, i1 - ic);
            int[] at = buf.packedA(rows * kqPad);
            int[] rowTerm = buf.rowTerm(rows);
            packA(at, rowTerm, buf, a, aOff + ic * lda, lda, aUnsigned, rows, k, kqPad, z);
            int[] cb = buf.colTile(NB * rows);
            int[] rb = buf.rowTile(rows * NB);
            for (int jb = j0; jb < j1; jb += NB) {
                int cols = Math.min(NB, j1 - jb);
                for (int jt = 0; jt < cols; jt += NR) {
                    int tileCols = Math.min(NR, cols - jt);
                    for (int c = 0; c < NR; c++) {
                        if (c < tileCols) {
                            int sum = QGemmKernel.widen(bw, c * kqPad, b, bOff + (jb + jt + c) * ldb, k, true);
                            colTerm[jt + c] = z * sum;
                        } else {
                            Arrays.fill(bw, c * kqPad, (c + 1) * kqPad, 0);
                        }
                    }
                    for (int s = 0; s < rows; s += MR) {
                        QGemmKernel.tile(kq, at, s * kqPad, bw, kqPad, cb, jt * rows + s, rows);
                    }
                }
                for (int c0 = 0; c0 < cols; c0 += L) {
                    for (int r0 = 0; r0 < rows; r0 += L) {
                        QGemmKernel.transpose16(cb, c0 * rows + r0, rows, rb, r0 * NB + c0, NB);
                    }
                }
                out.store(rb, NB, rows, cols, ic, jb, rowTerm, colTerm, buf);
            }
        }
    }

    /**
     * Packs rows {@code [0, rows)} of A (at {@code a[aOff + i*lda]}, {@code rows} a multiple of
     * {@code MR}) as unsigned pairs transposed into 32-row strips, {@code at[s*kqPad*MR + q*MR + r]}
     * for row {@code s*MR + r}; {@code rowTerm[i] = 128 * (z*k - rowSum(A_u))}.
     */
    private static void packA(int[] at, int[] rowTerm, QGemmBuffers buf, byte[] a, int aOff, int lda,
                              boolean aUnsigned, int rows, int k, int kqPad, int z) {
        int[] wide = buf.widened(L * kqPad);
        for (int g = 0; g < rows; g += L) {
            for (int r = 0; r < L; r++) {
                int sum = QGemmKernel.widen(wide, r * kqPad, a, aOff + (g + r) * lda, k, !aUnsigned);
                rowTerm[g + r] = 128 * (z * k - sum);
            }
            int strip = g / MR * kqPad * MR + g % MR;
            for (int q0 = 0; q0 < kqPad; q0 += L) {
                QGemmKernel.transpose16(wide, q0, kqPad, at, strip + q0 * MR, MR);
            }
        }
    }
}
