package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(4x4, 3x3) for 3x3 stride-1 "same" layers, by regions of 16 rows by 16 columns of
 * outputs: each region is 4x4 tiles of 4x4 outputs, one tile per lane of a 16-lane vector (lane
 * {@code 4*ty + tx}), and 36 such vectors per region and channel ({@code xi = 6a + b}:
 * {@code B^T d B}, {@code d} the tile's 6x6 padded inputs). A 14x14 image is one region and
 * fills 196 of its 256 outputs; its GEMMs do 36 multiplies per 16 outputs where the direct
 * kernels do 144, 3.06 times fewer at that fill. Two regions make one 32-tile block of the GEMMs
 * ({@link ConvMicro#kernel}, 8 output channels x 32 tiles, depth = input channels).
 *
 * <p>Input transform of one region and channel: its 18 padded rows, each read as one vector
 * when the layer is at most 14 wide (lane {@code l} = column {@code l - 1}; column -1 and
 * columns from {@code w} zeroed by a blend, lane 15 always padding: {@link #columnsNarrow}) or
 * as two ({@link #columnsWide}); the column transform {@code (d B)[b]} of each row as four
 * permutes and fused multiply-adds: lanes {@code 4b + tx} for {@code b < 4} in one vector per
 * row, {@code b = 4, 5} of rows {@code i} and {@code i + 8} together in another. Then
 * {@code B^T} over each tile row's six rows (additions), and per {@code a} a transpose of lane
 * quarters to lanes {@code (ty, tx)} ({@link #rowsAndTranspose}). Output transform of one
 * region and output channel: {@code A^T M A} as additions on the 36 products, then permutes to
 * 16 output rows. The weight gradient ({@link #backwardWeight}) reuses the input transform and
 * adds {@code A dY A^T} of the output gradient ({@link #gradientTransform}). Each loop runs the
 * same vector code in every pass, through a per-thread work array; permutes of two vectors use
 * int index vectors ({@link ConvWinograd#ints}); no masked load or store reaches past its array
 * and no vector code sits on a branch (see {@link ConvWinograd} why).
 *
 * <p>F(4x4, 3x3) rounds more than F(2x2, 3x3) (its transforms multiply by up to 5 and 8): about
 * 1e-6 of the sums of |x*w| here against a few ulps. Each value is computed the same way at any
 * thread count.
 */
final class ConvWinogradF4 {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int SLOT = 16;
    /** Transformed values per tile: 6x6. */
    private static final int XI = 36;
    /**
     * Work array: an edge row (32 floats), 18 padded rows (or, for wide rows, b = 4, 5 of each; for the
     * weight gradient the output gradient's 16 rows), their column transforms (18 + 10 rows), 36 row
     * transforms, 24 partial outputs, an output row.
     */
    private static final int EDGE = 0;
    private static final int ROWS = EDGE + 2 * SLOT;
    private static final int COLS = ROWS + 18 * SLOT;
    private static final int COLS45 = COLS + 18 * SLOT;
    private static final int TRANS = COLS45 + 10 * SLOT;
    private static final int PARTIAL = TRANS + XI * SLOT;
    private static final int OUT = PARTIAL + 24 * SLOT;
    /** Wide rows: b = 4, 5 of each row alone (lanes 0-7, repeated in 8-15), before pairing. */
    private static final int COLS45_ROW = ROWS;
    private static final int WORK = OUT + SLOT;
    /** Column transform b = 0..3 (lane {@code 4b + tx}): {@code d4 + CB*d2 + CC*(b = 0 ? d0 : d1) + CD*(b = 0 ? 0 : d3)}. */
    private static final VectorShuffle<Float> CA_IDX;
    private static final VectorShuffle<Float> CB_IDX;
    private static final VectorShuffle<Float> CC_IDX;
    private static final VectorShuffle<Float> CD_IDX;
    private static final FloatVector CB;
    private static final FloatVector CC;
    private static final FloatVector CD;
    /** Column transform b = 4, 5 of rows i (lanes 0-7) and i + 8 (lanes 8-15), lane {@code 4(b - 4) + tx}. */
    private static final IntVector DX_IDX;
    private static final IntVector D1_IDX;
    private static final IntVector D3_IDX;
    private static final IntVector D2_IDX;
    private static final FloatVector DX;
    private static final FloatVector D1;
    private static final FloatVector D3;
    private static final FloatVector D2;
    /** Wide rows (two vectors, lanes 0-31 = columns 16rx - 1 on): b < 4 as CA-CD, and b = 4, 5 of one row. */
    private static final IntVector WA_IDX;
    private static final IntVector WB_IDX;
    private static final IntVector WC_IDX;
    private static final IntVector WD_IDX;
    private static final IntVector WX_IDX;
    private static final IntVector W1_IDX;
    private static final IntVector W3_IDX;
    private static final IntVector W2_IDX;
    /** Quarter transposes (as {@link ConvWinogradRegions}'), and the b = 4, 5 vectors' gather. */
    private static final IntVector T1_EVEN;
    private static final IntVector T1_ODD;
    private static final IntVector T2_LO;
    private static final IntVector T2_HI;
    private static final IntVector T4;
    private static final IntVector T5;
    /** Output: quarters of (q, q + 1) interleaved by tile row, then rows {@code 4ty + p} (lane {@code 4tx + q}). */
    private static final IntVector OQ_LO;
    private static final IntVector OQ_HI;
    private static final IntVector OR_A;
    private static final IntVector OR_B;
    /** Weight gradient: output-gradient rows (lane {@code 4tx + q}) to vectors of one {@code (p, q)} (lanes {@code 4ty + tx}). */
    private static final IntVector GS1;
    private static final IntVector GS1_HI;
    private static final IntVector GS2_A;
    private static final IntVector GS2_B;
    /** The padded rows above and below the image. */
    private static final float[] ZEROS = new float[2 * SLOT];
    /** The weight gradient's transformed inputs, transformed output gradients and products, on the calling thread. */
    private static final ThreadLocal<float[][]> GRADIENT = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});
    /**
     * Tiles per GEMM of the weight gradient: its images are taken in runs of about this many tiles.
     * Measured at 32 -> 64 and 64 -> 64, 14x14, batch 64 (ms, this against the direct kernel, 1 / 2
     * threads): 128: 2.47 vs 2.86, 4.72 vs 5.67 / 1.76 vs 1.93, 2.97 vs 3.71; 512: 3.42 vs 3.26,
     * 6.11 vs 6.17 / 2.11 vs 1.99, 3.05 vs 3.35 (the transformed inputs and output gradients of a
     * run, 36 * (c + oc) * tiles floats, then outgrow L2). {@code -Dkiln.f4.tiles=N} sets it.
     */
    private static final int WEIGHT_TILES = Integer.getInteger("kiln.f4.tiles", 128);
    /** Partial sums of the weight gradient's products, each over every slots-th run: the most threads that share its work. */
    private static final int WEIGHT_SLOTS = 4;
    private static final ThreadLocal<float[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[WORK]});

    static {
        boolean ok = F.length() == SLOT;
        float[][] t = new float[30][SLOT];
        for (int l = 0; l < SLOT; l++) {
            int b = l / 4;
            int tx = l % 4;
            t[0][l] = 4 * tx + 4; // d4: 16 (the zero vector) for tx = 3
            t[1][l] = 4 * tx + 2;
            t[2][l] = b == 0 ? 4 * tx : 4 * tx + 1;
            t[3][l] = b == 0 ? SLOT : 4 * tx + 3;
            t[4][l] = new float[] {-5f, -4f, -4f, -1f}[b];
            t[5][l] = new float[] {4f, -4f, 4f, -2f}[b];
            t[6][l] = new float[] {0f, 1f, -1f, 2f}[b];
            int half = l / 8; // row i or i + 8
            int bb = l % 8 / 4; // b - 4
            int off = half * SLOT;
            t[7][l] = tx == 3 ? off : off + 4 * tx + 4 + bb; // d4 or d5: columns 15, 16 for tx = 3 (weight 0)
            t[8][l] = off + 4 * tx + 1;
            t[9][l] = off + 4 * tx + 3;
            t[10][l] = off + 4 * tx + 2;
            t[11][l] = tx == 3 ? 0f : 1f;
            t[12][l] = bb == 0 ? 2f : 4f;
            t[13][l] = bb == 0 ? -2f : -5f;
            t[14][l] = bb == 0 ? -1f : 0f;
            // stage 1 (inputs W0, W1): E0 = [W0.q0, W1.q0, W0.q2, W1.q2], E1 = [W0.q1, W1.q1, W0.q3, W1.q3]
            int q = l / 4;
            int src = (q % 2 == 0 ? 0 : SLOT) + (q < 2 ? 0 : 8);
            t[15][l] = src + tx;
            t[16][l] = src + 4 + tx;
            // stage 2 (inputs E0, E2): [E0.q0, E0.q1, E2.q0, E2.q1] and [E0.q2, E0.q3, E2.q2, E2.q3]
            t[17][l] = (q < 2 ? 0 : SLOT) + (q % 2) * 4 + tx;
            t[18][l] = (q < 2 ? 0 : SLOT) + 8 + (q % 2) * 4 + tx;
            // b = 4 of tile row ty from X0 (rows 0 | 2) and X1 (rows 1 | 3); b = 5 four lanes on
            int ty = l / 4;
            t[19][l] = new int[] {0, SLOT, 8, SLOT + 8}[ty] + tx;
            // output stage 1 (inputs o_q, o_q+1): [q.ty0, q+1.ty0, q.ty1, q+1.ty1] (LO), tile rows 2, 3 (HI)
            t[20][l] = (q % 2 == 0 ? 0 : SLOT) + (q / 2) * 4 + tx;
            // output stage 2 (inputs E_01, E_23): row lane 4tx + q' (here tx = l / 4, q' = l % 4)
            int ox = l / 4;
            int oq = l % 4;
            t[21][l] = (oq >= 2 ? SLOT : 0) + (oq % 2) * 4 + ox;
            // wide rows: d4 of tile column 3 is lane 16 (the second vector's first), d5 lane 17
            t[22][l] = 4 * tx + 4;
            t[23][l] = 4 * tx + 2;
            t[24][l] = b == 0 ? 4 * tx : 4 * tx + 1;
            t[25][l] = b == 0 ? 0 : 4 * tx + 3; // weight 0 for b = 0
            t[26][l] = 4 * tx + 4 + bb;
            t[27][l] = 4 * tx + 1;
            t[28][l] = 4 * tx + 3;
            t[29][l] = 4 * tx + 2;
        }
        for (int k = 0; k < 4; k++) { // lane 15 (column 14) is padding in layers at most 14 wide
            for (int l = 0; l < SLOT; l++) {
                t[k][l] = Math.min(t[k][l], SLOT - 1);
            }
        }
        CA_IDX = ok ? FloatVector.fromArray(F, t[0], 0).toShuffle() : null;
        CB_IDX = ok ? FloatVector.fromArray(F, t[1], 0).toShuffle() : null;
        CC_IDX = ok ? FloatVector.fromArray(F, t[2], 0).toShuffle() : null;
        CD_IDX = ok ? FloatVector.fromArray(F, t[3], 0).toShuffle() : null;
        CB = ok ? FloatVector.fromArray(F, t[4], 0) : null;
        CC = ok ? FloatVector.fromArray(F, t[5], 0) : null;
        CD = ok ? FloatVector.fromArray(F, t[6], 0) : null;
        DX_IDX = ok ? ConvWinograd.ints(t[7]) : null;
        D1_IDX = ok ? ConvWinograd.ints(t[8]) : null;
        D3_IDX = ok ? ConvWinograd.ints(t[9]) : null;
        D2_IDX = ok ? ConvWinograd.ints(t[10]) : null;
        DX = ok ? FloatVector.fromArray(F, t[11], 0) : null;
        D1 = ok ? FloatVector.fromArray(F, t[12], 0) : null;
        D3 = ok ? FloatVector.fromArray(F, t[13], 0) : null;
        D2 = ok ? FloatVector.fromArray(F, t[14], 0) : null;
        WA_IDX = ok ? ConvWinograd.ints(t[22]) : null;
        WB_IDX = ok ? ConvWinograd.ints(t[23]) : null;
        WC_IDX = ok ? ConvWinograd.ints(t[24]) : null;
        WD_IDX = ok ? ConvWinograd.ints(t[25]) : null;
        WX_IDX = ok ? ConvWinograd.ints(t[26]) : null;
        W1_IDX = ok ? ConvWinograd.ints(t[27]) : null;
        W3_IDX = ok ? ConvWinograd.ints(t[28]) : null;
        W2_IDX = ok ? ConvWinograd.ints(t[29]) : null;
        float[][] gs = new float[4][SLOT];
        for (int l = 0; l < SLOT; l++) {
            int j = l / 4; // quarter
            int tx = l % 4;
            gs[0][l] = (j / 2) * SLOT + 4 * tx + j % 2; // [R0 q0, R0 q1, R1 q0, R1 q1]
            gs[1][l] = gs[0][l] + 2; // q2, q3
            gs[2][l] = 8 * j + tx; // [F01 quarter 0, F01 quarter 2, F23 quarter 0, F23 quarter 2]
            gs[3][l] = 8 * j + 4 + tx;
        }
        GS1 = ok ? ConvWinograd.ints(gs[0]) : null;
        GS1_HI = ok ? ConvWinograd.ints(gs[1]) : null;
        GS2_A = ok ? ConvWinograd.ints(gs[2]) : null;
        GS2_B = ok ? ConvWinograd.ints(gs[3]) : null;
        T1_EVEN = ok ? ConvWinograd.ints(t[15]) : null;
        T1_ODD = ok ? ConvWinograd.ints(t[16]) : null;
        T2_LO = ok ? ConvWinograd.ints(t[17]) : null;
        T2_HI = ok ? ConvWinograd.ints(t[18]) : null;
        T4 = ok ? ConvWinograd.ints(t[19]) : null;
        float[] t5 = t[19].clone();
        for (int l = 0; l < SLOT; l++) {
            t5[l] += 4;
        }
        T5 = ok ? ConvWinograd.ints(t5) : null;
        OQ_LO = ok ? ConvWinograd.ints(t[20]) : null;
        float[] ohi = t[20].clone();
        for (int l = 0; l < SLOT; l++) {
            ohi[l] += 8;
        }
        OQ_HI = ok ? ConvWinograd.ints(ohi) : null;
        OR_A = ok ? ConvWinograd.ints(t[21]) : null;
        float[] orb = t[21].clone();
        for (int l = 0; l < SLOT; l++) {
            orb[l] += 8;
        }
        OR_B = ok ? ConvWinograd.ints(orb) : null;
    }

    private ConvWinogradF4() {
    }

    /**
     * Whether {@code Conv} routes {@code g}'s forward pass here: {@link #supportsForward}, and at
     * least 3/4 of the 16x16 regions' rows and columns in the image ({@code h} and {@code w} 12 to
     * 16, 24 to 32 (where {@link ConvWinograd} does not take them first), 36 to 48, ...). Measured,
     * 1 thread, batch 64, min of 8 alternating 0.25 s rounds in one JVM (forward / input gradient,
     * ms): 32 -> 64 at 14x14 1.64 / 1.85 against the direct kernels' 2.66 / 2.61; 64 -> 64 at
     * 14x14 3.27 / 3.30 against 5.24 / 5.20; 32 -> 64 at 16x16 1.68 / 1.95 against
     * {@link ConvWinogradRegions}' 3.33 / 3.63; 64 -> 64 at 32x32 18.4 / 18.4 against 23.9 / 23.8;
     * 32 -> 32 at 32x32 7.09 / 6.90 against the direct kernels' 8.68 / 8.69. Left to
     * {@link ConvWinograd}: 32 -> 32 at 28x28 (6.10 here against 5.43 there).
     */
    static boolean suitsForward(ConvGeom g) {
        return supportsForward(g) && fills(g.h()) && fills(g.w());
    }

    /** As {@link #suitsForward} for the input gradient. */
    static boolean suitsInput(ConvGeom g) {
        return supportsInput(g) && fills(g.h()) && fills(g.w());
    }

    /**
     * Whether {@code Conv} routes {@code g}'s weight gradient here: sides 12 to 16 (one region
     * across, {@link #fills} down) and at least 32 input and output channels. Measured, batch 64,
     * against the direct kernel (ms, 1 / 2 threads): 32 -> 64 at 14x14 2.47 vs 2.86 / 1.76 vs 1.93;
     * 64 -> 64 at 14x14 4.72 vs 5.67 / 2.97 vs 3.71; 32 -> 64 at 16x16 2.56 vs 3.53 / 1.90 vs 2.22.
     * Left out: 32 -> 32 at 28x28 (6.68 vs 6.03 with runs of 128 tiles), and layers whose partial
     * sums ({@link #WEIGHT_SLOTS} of {@code 36 * c * oc} floats) would pass 32 MB (c * oc above
     * 2^16 / 1.125: 256 -> 256 would take 38 MB where the direct kernel's partials take 2.4 MB per thread).
     */
    static boolean suitsWeight(ConvGeom g) {
        return supportsGeometry(g) && fills(g.h()) && g.w() >= 12 && g.w() <= SLOT && g.c() >= ConvWinograd.MIN_DEPTH
                && g.oc() >= ConvWinograd.MIN_DEPTH && (long) WEIGHT_SLOTS * XI * g.c() * g.oc() <= 1L << 23;
    }

    /** Whether 16-wide regions over {@code side} outputs keep at least 3/4 of their lanes: 12-16, 24-32, 36-48, .... */
    private static boolean fills(int side) {
        return 4 * side >= 3 * 16 * ((side + 15) / 16);
    }

    /**
     * Whether this class computes {@code g}'s forward pass: 3x3, stride 1, padding 1, no dilation or
     * groups, at least {@link ConvWinograd#MIN_DEPTH} input channels, output channels in eights.
     */
    static boolean supportsForward(ConvGeom g) {
        return supportsGeometry(g) && g.c() >= ConvWinograd.MIN_DEPTH && g.oc() % MR == 0;
    }

    /** As {@link #supportsForward} for the input gradient: the output gradient's channels are the depth. */
    static boolean supportsInput(ConvGeom g) {
        return supportsGeometry(g) && g.oc() >= ConvWinograd.MIN_DEPTH && g.c() % MR == 0;
    }

    private static boolean supportsGeometry(ConvGeom g) {
        return ConvWinograd.sameLayer(g) && (long) XI * g.c() * g.oc() < Integer.MAX_VALUE;
    }

    /** {@code Conv.conv2d} (arguments checked, {@link #supportsForward}). */
    static void forward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(XI * g.c() * g.oc());
        transformWeights(u, w, g.oc(), g.c(), false);
        conv2d(y, x, u, bias, g.n(), g.c(), g.oc(), g.h(), g.w());
    }

    /**
     * {@code Conv.conv2dBackwardInput} writing {@code gx} (arguments checked, {@link #supportsInput}):
     * the forward pass of the output gradient with the weight's channel axes swapped and its taps
     * rotated by 180 degrees.
     */
    static void backwardInput(float[] gx, float[] gy, float[] w, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(XI * g.c() * g.oc());
        transformWeights(u, w, g.c(), g.oc(), true);
        conv2d(gx, gy, u, null, g.n(), g.oc(), g.c(), g.h(), g.w());
    }

    /**
     * {@code u[(xi*c + ci)*oc + o] = (G g G^T)[a][b]}, {@code xi = 6a + b}, for {@code g = w[o, ci]}
     * ({@code w} as {@code [oc, c, 3, 3]}), or when {@code flip}, for {@code g = w[ci, o]} rotated by
     * 180 degrees ({@code w} as {@code [c, oc, 3, 3]}); computed in double and rounded once.
     */
    static void transformWeights(float[] u, float[] w, int oc, int c, boolean flip) {
        double[] t = new double[18];
        // one input channel's 36 rows of oc values in row, then copied to u: stored straight into u, the 36
        // rows 4 * c * oc bytes apart (8 KB at 32 -> 64) fell into one L1 set (640 against 78 us at 32 -> 64)
        float[] row = new float[XI * oc];
        for (int ci = 0; ci < c; ci++) {
            for (int o = 0; o < oc; o++) {
                int base = flip ? (ci * oc + o) * 9 : (o * c + ci) * 9;
                for (int j = 0; j < 3; j++) { // G g, column j
                    double g0 = w[base + (flip ? 8 - j : j)];
                    double g1 = w[base + (flip ? 5 - j : 3 + j)];
                    double g2 = w[base + (flip ? 2 - j : 6 + j)];
                    double s = g0 + g2;
                    double e = g0 * (1 / 24.0) + g2 * (1 / 6.0);
                    t[j] = g0 * 0.25;
                    t[3 + j] = (s + g1) * (-1 / 6.0);
                    t[6 + j] = (s - g1) * (-1 / 6.0);
                    t[9 + j] = e + g1 * (1 / 12.0);
                    t[12 + j] = e - g1 * (1 / 12.0);
                    t[15 + j] = g2;
                }
                for (int a = 0; a < 6; a++) { // (G g) G^T, row a
                    double r0 = t[3 * a];
                    double r1 = t[3 * a + 1];
                    double r2 = t[3 * a + 2];
                    double s = r0 + r2;
                    double e = r0 * (1 / 24.0) + r2 * (1 / 6.0);
                    int at = 6 * a * oc + o;
                    row[at] = (float) (r0 * 0.25);
                    row[at + oc] = (float) ((s + r1) * (-1 / 6.0));
                    row[at + 2 * oc] = (float) ((s - r1) * (-1 / 6.0));
                    row[at + 3 * oc] = (float) (e + r1 * (1 / 12.0));
                    row[at + 4 * oc] = (float) (e - r1 * (1 / 12.0));
                    row[at + 5 * oc] = (float) r2;
                }
            }
            for (int xi = 0; xi < XI; xi++) {
                System.arraycopy(row, xi * oc, u, (xi * c + ci) * oc, oc);
            }
        }
    }

    /**
     * {@code Conv.conv2dBackwardWeight}'s {@code gw} (writes; arguments checked, {@link #supportsGeometry}):
     * with {@code Y = A^T (U . V) A} per tile, {@code U = G g G^T} and {@code V = B^T d B},
     * {@code dL/dU = sum over tiles of (A dY A^T) . V} and {@code dL/dg = G^T (dL/dU) G}. Per run of
     * images: {@code V} of every tile and input channel and {@code A dY A^T} of every tile and output
     * channel (tiles along the rows), then one GEMM per {@code xi} over the tiles (36 of
     * {@code oc x c x tiles}, {@link Gemm#sgemmBatched}), summed over runs; then {@code G^T . G}.
     */
    static void backwardWeight(float[] gw, float[] x, float[] gy, ConvGeom g) {
        int n = g.n();
        int c = g.c();
        int oc = g.oc();
        int h = g.h();
        int w = g.w();
        int rw = (w + 15) / 16;
        int perImage = (h + 15) / 16 * rw;
        int run = Math.clamp(WEIGHT_TILES / (16 * perImage), 1, n);
        int runs = Math.ceilDiv(n, run);
        int slots = Math.min(runs, WEIGHT_SLOTS);
        int duSize = XI * oc * c;
        float[] du = ConvParts.buffer(slots, duSize);
        // slot s sums runs s, s + slots, ... in that order on whichever thread takes it, and the slots are
        // added in order: the same bits at any thread count
        ConvPacked.eachImage(slots, slot -> {
            float[][] s = GRADIENT.get();
            int tMax = run * perImage * 16;
            if (s[0].length < XI * (c * tMax + SLOT)) {
                s[0] = new float[XI * (c * tMax + SLOT)];
            }
            if (s[1].length < XI * (oc * tMax + SLOT)) {
                s[1] = new float[XI * (oc * tMax + SLOT)];
            }
            float[] v = s[0];
            float[] m = s[1];
            float[] work = SCRATCH.get()[2];
            for (int r = slot; r < runs; r += slots) {
                int first = r * run;
                int images = Math.min(run, n - first);
                int tiles = images * perImage * 16;
                int vs = c * tiles + SLOT; // a cache line more than the transforms fill: see ConvWinograd.vStride
                int ms = oc * tiles + SLOT;
                for (int k = 0; k < images * perImage; k++) {
                    int img = first + k / perImage;
                    int ry = k % perImage / rw;
                    int rx = k % rw;
                    for (int ci = 0; ci < c; ci++) {
                        inputTransform(v, ci * tiles + k * SLOT, vs, x, (img * c + ci) * h * w, h, w, ry, rx, work);
                    }
                    for (int o = 0; o < oc; o++) {
                        gradientTransform(m, o * tiles + k * SLOT, ms, gy, (img * oc + o) * h * w, h, w, ry, rx, work);
                    }
                }
                // inside a parallel section: runs on this thread
                Gemm.sgemmBatched(r >= slots, du, slot * duSize, c, (long) oc * c, false, m, 0, tiles, ms,
                        true, v, 0, tiles, vs, XI, oc, c, tiles);
            }
        });
        ConvParts.sum(du, slots, duSize);
        untransformWeights(gw, du, oc, c);
    }

    /**
     * {@code gw[o, ci] = G^T dU G} for {@code dU[(xi*oc + o)*c + ci]} ({@code xi = 6a + b}), in
     * double, rounded once.
     */
    private static void untransformWeights(float[] gw, float[] du, int oc, int c) {
        double[] t = new double[18];
        int xiStride = oc * c;
        // one output channel's 36 rows of c values first: read straight from du, rows 4 * oc * c bytes
        // apart fell into one L1 set (as in transformWeights)
        float[] rows = new float[XI * c];
        for (int o = 0; o < oc; o++) {
            for (int xi = 0; xi < XI; xi++) {
                System.arraycopy(du, xi * xiStride + o * c, rows, xi * c, c);
            }
            for (int ci = 0; ci < c; ci++) {
                for (int a = 0; a < 6; a++) { // (dU G)[a][j], G's rows (1/4, 0, 0), -(1, 1, 1)/6, -(1, -1, 1)/6,
                    // (1/24, 1/12, 1/6), (1/24, -1/12, 1/6), (0, 0, 1)
                    int at = 6 * a * c + ci;
                    double d0 = rows[at];
                    double d1 = rows[at + c];
                    double d2 = rows[at + 2 * c];
                    double d3 = rows[at + 3 * c];
                    double d4 = rows[at + 4 * c];
                    double d5 = rows[at + 5 * c];
                    double s12 = d1 + d2;
                    double s34 = d3 + d4;
                    t[3 * a] = d0 * 0.25 - s12 * (1 / 6.0) + s34 * (1 / 24.0);
                    t[3 * a + 1] = (d2 - d1) * (1 / 6.0) + (d3 - d4) * (1 / 12.0);
                    t[3 * a + 2] = -s12 * (1 / 6.0) + s34 * (1 / 6.0) + d5;
                }
                int base = (o * c + ci) * 9;
                for (int j = 0; j < 3; j++) { // G^T (dU G), column j
                    double r0 = t[j];
                    double r1 = t[3 + j];
                    double r2 = t[6 + j];
                    double r3 = t[9 + j];
                    double r4 = t[12 + j];
                    double r5 = t[15 + j];
                    double s12 = r1 + r2;
                    double s34 = r3 + r4;
                    gw[base + j] = (float) (r0 * 0.25 - s12 * (1 / 6.0) + s34 * (1 / 24.0));
                    gw[base + 3 + j] = (float) ((r2 - r1) * (1 / 6.0) + (r3 - r4) * (1 / 12.0));
                    gw[base + 6 + j] = (float) (-s12 * (1 / 6.0) + s34 * (1 / 6.0) + r5);
                }
            }
        }
    }

    /**
     * The 36 vectors {@code A dY A^T} (lanes {@code 4ty + tx}) of region {@code (ry, rx)} of one
     * output-gradient channel (at {@code gy[yOff]}, {@code h x w}; zeros outside the image) into
     * {@code m[at + xi*mStride]}: per tile row {@code p}, the four image rows {@code 4ty + p}
     * permuted to one vector per column {@code q}; then {@code A} over {@code p} and over {@code q}
     * ({@code A}'s rows: 1 0 0 0, 1 1 1 1, 1 -1 1 -1, 1 2 4 8, 1 -2 4 -8, 0 0 0 1).
     */
    private static void gradientTransform(float[] m, int at, int mStride, float[] gy, int yOff, int h, int w, int ry, int rx,
                                          float[] work) {
        int valid = Math.min(SLOT, w - 16 * rx);
        VectorMask<Float> past = VectorMask.fromLong(F, 0xFFFFL & -(1L << valid));
        for (int i = 0; i < 16; i++) { // the region's rows, zeros past the image, into work[ROWS + 16i]
            int r = 16 * ry + i;
            int rs = yOff + r * w + 16 * rx;
            boolean inside = r < h && rs + SLOT <= gy.length;
            float[] src = inside ? gy : r < h ? work : ZEROS;
            int from = inside ? rs : r < h ? edgeRow(gy, rs, SLOT, work) : 0;
            FloatVector.fromArray(F, src, from).blend(0f, past).intoArray(work, ROWS + i * SLOT);
        }
        for (int p = 0; p < 4; p++) { // rows 4ty + p -> work[PARTIAL + (4p + q)*16]
            IntVector r0 = FloatVector.fromArray(F, work, ROWS + p * SLOT).reinterpretAsInts();
            IntVector r1 = FloatVector.fromArray(F, work, ROWS + (p + 4) * SLOT).reinterpretAsInts();
            IntVector r2 = FloatVector.fromArray(F, work, ROWS + (p + 8) * SLOT).reinterpretAsInts();
            IntVector r3 = FloatVector.fromArray(F, work, ROWS + (p + 12) * SLOT).reinterpretAsInts();
            IntVector f01 = GS1.selectFrom(r0, r1);
            IntVector f23 = GS1.selectFrom(r2, r3);
            IntVector h01 = GS1_HI.selectFrom(r0, r1);
            IntVector h23 = GS1_HI.selectFrom(r2, r3);
            int dst = PARTIAL + 4 * p * SLOT;
            GS2_A.selectFrom(f01, f23).reinterpretAsFloats().intoArray(work, dst);
            GS2_B.selectFrom(f01, f23).reinterpretAsFloats().intoArray(work, dst + SLOT);
            GS2_A.selectFrom(h01, h23).reinterpretAsFloats().intoArray(work, dst + 2 * SLOT);
            GS2_B.selectFrom(h01, h23).reinterpretAsFloats().intoArray(work, dst + 3 * SLOT);
        }
        FloatVector two = FloatVector.broadcast(F, 2f);
        FloatVector four = FloatVector.broadcast(F, 4f);
        // A over p for each q (passes 0-3: work[PARTIAL + (4p + q)*16] -> work[TRANS + (4a + q)*16]), then
        // over q for each a (passes 4-9: work[TRANS + (4a + q)*16] -> m[at + (6a + b)*mStride]): one loop, the
        // arrays and strides chosen per pass, the same vector code in each
        for (int pass = 0; pass < 10; pass++) {
            boolean rows = pass < 4;
            int src = rows ? PARTIAL + pass * SLOT : TRANS + 4 * (pass - 4) * SLOT;
            int srcStride = rows ? 4 * SLOT : SLOT;
            float[] out = rows ? work : m;
            int dst = rows ? TRANS + pass * SLOT : at + 6 * (pass - 4) * mStride;
            int dstStride = rows ? 4 * SLOT : mStride;
            FloatVector g0 = FloatVector.fromArray(F, work, src);
            FloatVector g1 = FloatVector.fromArray(F, work, src + srcStride);
            FloatVector g2 = FloatVector.fromArray(F, work, src + 2 * srcStride);
            FloatVector g3 = FloatVector.fromArray(F, work, src + 3 * srcStride);
            FloatVector s02 = g0.add(g2);
            FloatVector s13 = g1.add(g3);
            FloatVector d02 = g2.fma(four, g0);
            FloatVector d13 = g3.fma(four, g1).mul(two);
            g0.intoArray(out, dst);
            s02.add(s13).intoArray(out, dst + dstStride);
            s02.sub(s13).intoArray(out, dst + 2 * dstStride);
            d02.add(d13).intoArray(out, dst + 3 * dstStride);
            d02.sub(d13).intoArray(out, dst + 4 * dstStride);
            g3.intoArray(out, dst + 5 * dstStride);
        }
    }

    /**
     * {@code y = conv(x, w) (+ bias)} for {@code n} images, {@code c -> oc} channels, {@code h x w};
     * {@code u} holds the transformed weights ({@link #transformWeights}).
     */
    static void conv2d(float[] y, float[] x, float[] u, float[] bias, int n, int c, int oc, int h, int w) {
        int blocks = (n * ((h + 15) / 16) * ((w + 15) / 16) + 1) / 2;
        ConvWinogradRegions.byRegions(y, x, u, bias, n, c, oc, h, w, 16, XI, Math.clamp(64 / (c + oc), 1, blocks), SCRATCH,
                ConvWinogradF4::inputTransform, ConvWinogradF4::outputTransform);
    }

    /** The 36 vectors {@code B^T d B} of region {@code (ry, rx)} of one channel (at {@code x[xOff]}) into {@code v[at + xi*vStride]}. */
    private static void inputTransform(float[] v, int at, int vStride, float[] x, int xOff, int h, int w, int ry, int rx,
                                       float[] work) {
        if (w <= SLOT - 2) {
            columnsNarrow(x, xOff, h, w, ry, work);
        } else {
            columnsWide(x, xOff, h, w, ry, rx, work);
        }
        rowsAndTranspose(v, at, vStride, work);
    }

    /**
     * Region {@code ry} of one channel (at {@code x[xOff]}, {@code h x w}, {@code w <= 14}): its 18
     * padded rows, each one vector (lane {@code l} = column {@code l - 1}), into {@code work[ROWS]},
     * their column transforms for {@code b < 4} into {@code work[COLS]} and for {@code b = 4, 5}
     * (rows {@code i} and {@code i + 8} in one vector) into {@code work[COLS45]}.
     */
    private static void columnsNarrow(float[] x, int xOff, int h, int w, int ry, float[] work) {
        // lane 0 is column -1, lanes from w + 1 columns w and on
        VectorMask<Float> padding = VectorMask.fromLong(F, 1L | (0xFFFFL & -(1L << (w + 1))));
        int row = 16 * ry - 1;
        for (int i = 0; i < 18; i++) {
            int pr = row + i;
            int rs = xOff + pr * w - 1;
            boolean image = pr >= 0 && pr < h;
            boolean inside = image && rs >= 0 && rs + SLOT <= x.length;
            float[] src = inside ? x : image ? work : ZEROS;
            int from = inside ? rs : image ? edgeRow(x, rs, SLOT, work) : 0;
            FloatVector p = FloatVector.fromArray(F, src, from).blend(0f, padding);
            p.intoArray(work, ROWS + i * SLOT);
            // lanes 4b + tx, b < 4: d4 + CB d2 + CC (d0 | d1) + CD (0 | d3) of tile column tx
            FloatVector r = p.rearrange(CB_IDX).fma(CB, p.rearrange(CA_IDX));
            r = p.rearrange(CC_IDX).fma(CC, r);
            p.rearrange(CD_IDX).fma(CD, r).intoArray(work, COLS + i * SLOT);
        }
        for (int i = 0; i < 10; i++) { // b = 4, 5 of rows i and i + 8: d4 + 2d1 - 2d3 - d2, d5 + 4d1 - 5d3
            IntVector p = FloatVector.fromArray(F, work, ROWS + i * SLOT).reinterpretAsInts();
            IntVector p8 = FloatVector.fromArray(F, work, ROWS + (i + 8) * SLOT).reinterpretAsInts();
            FloatVector r = DX_IDX.selectFrom(p, p8).reinterpretAsFloats().mul(DX);
            r = D1_IDX.selectFrom(p, p8).reinterpretAsFloats().fma(D1, r);
            r = D3_IDX.selectFrom(p, p8).reinterpretAsFloats().fma(D3, r);
            D2_IDX.selectFrom(p, p8).reinterpretAsFloats().fma(D2, r).intoArray(work, COLS45 + i * SLOT);
        }
    }

    /**
     * As {@link #columnsNarrow} for region {@code (ry, rx)} of a layer of any width: each padded row
     * as two vectors (lanes 0-31 = columns {@code 16rx - 1} on), the column transforms as
     * two-vector permutes; {@code b = 4, 5} of each row alone first (lanes 0-7, repeated in 8-15),
     * then rows {@code i} and {@code i + 8} paired by a blend.
     */
    private static void columnsWide(float[] x, int xOff, int h, int w, int ry, int rx, float[] work) {
        int col = 16 * rx - 1;
        int past = w - col; // first lane (of 32) past the image
        VectorMask<Float> padLo = VectorMask.fromLong(F, (rx == 0 ? 1L : 0L) | (past >= SLOT ? 0L : 0xFFFFL & -(1L << past)));
        VectorMask<Float> padHi = VectorMask.fromLong(F, past >= 2 * SLOT ? 0L : 0xFFFFL & -(1L << Math.max(past - SLOT, 0)));
        int row = 16 * ry - 1;
        for (int i = 0; i < 18; i++) {
            int pr = row + i;
            int rs = xOff + pr * w + col;
            boolean image = pr >= 0 && pr < h;
            boolean inside = image && rs >= 0 && rs + 2 * SLOT <= x.length;
            float[] src = inside ? x : image ? work : ZEROS;
            int from = inside ? rs : image ? edgeRow(x, rs, 2 * SLOT, work) : 0;
            IntVector lo = FloatVector.fromArray(F, src, from).blend(0f, padLo).reinterpretAsInts();
            IntVector hi = FloatVector.fromArray(F, src, from + SLOT).blend(0f, padHi).reinterpretAsInts();
            FloatVector r = WB_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(CB, WA_IDX.selectFrom(lo, hi).reinterpretAsFloats());
            r = WC_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(CC, r);
            WD_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(CD, r).intoArray(work, COLS + i * SLOT);
            r = W1_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(D1, WX_IDX.selectFrom(lo, hi).reinterpretAsFloats());
            r = W3_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(D3, r);
            W2_IDX.selectFrom(lo, hi).reinterpretAsFloats().fma(D2, r).intoArray(work, COLS45_ROW + i * SLOT);
        }
        VectorMask<Float> upper = VectorMask.fromLong(F, 0xFF00L);
        for (int i = 0; i < 10; i++) {
            FloatVector p = FloatVector.fromArray(F, work, COLS45_ROW + i * SLOT);
            p.blend(FloatVector.fromArray(F, work, COLS45_ROW + (i + 8) * SLOT), upper).intoArray(work, COLS45 + i * SLOT);
        }
    }

    /**
     * From {@code work}'s column transforms ({@link #columnsNarrow}, {@link #columnsWide}): the 36
     * vectors {@code B^T d B} (lanes {@code 4ty + tx}) into {@code v[at + xi*vStride]}.
     */
    private static void rowsAndTranspose(float[] v, int at, int vStride, float[] work) {
        // B^T over the six rows of each tile row: groups 0-3 are tile rows 0-3 (b < 4), groups 4, 5
        // tile rows 0 | 2 and 1 | 3 (b = 4, 5); into TRANS + (6*group + a)*16
        FloatVector four = FloatVector.broadcast(F, 4f);
        FloatVector five = FloatVector.broadcast(F, -5f);
        FloatVector two = FloatVector.broadcast(F, 2f);
        for (int gr = 0; gr < 6; gr++) {
            int src = gr < 4 ? COLS + 4 * gr * SLOT : COLS45 + 4 * (gr - 4) * SLOT;
            FloatVector d0 = FloatVector.fromArray(F, work, src);
            FloatVector d1 = FloatVector.fromArray(F, work, src + SLOT);
            FloatVector d2 = FloatVector.fromArray(F, work, src + 2 * SLOT);
            FloatVector d3 = FloatVector.fromArray(F, work, src + 3 * SLOT);
            FloatVector d4 = FloatVector.fromArray(F, work, src + 4 * SLOT);
            FloatVector d5 = FloatVector.fromArray(F, work, src + 5 * SLOT);
            int dst = TRANS + 6 * gr * SLOT;
            d2.fma(five, d0.fma(four, d4)).intoArray(work, dst);
            d1.add(d2).fma(four.neg(), d3.add(d4)).intoArray(work, dst + SLOT);
            d1.sub(d2).fma(four, d4.sub(d3)).intoArray(work, dst + 2 * SLOT);
            FloatVector e = d4.sub(d2);
            FloatVector f = d3.sub(d1);
            f.fma(two, e).intoArray(work, dst + 3 * SLOT);
            f.fma(two.neg(), e).intoArray(work, dst + 4 * SLOT);
            d3.fma(five, d1.fma(four, d5)).intoArray(work, dst + 5 * SLOT);
        }
        // per a: lanes (b, tx) of tile rows 0-3 -> lanes (ty, tx) of xi = 6a + b
        for (int a = 0; a < 6; a++) {
            int src = TRANS + a * SLOT;
            IntVector w0 = FloatVector.fromArray(F, work, src).reinterpretAsInts();
            IntVector w1 = FloatVector.fromArray(F, work, src + 6 * SLOT).reinterpretAsInts();
            IntVector w2 = FloatVector.fromArray(F, work, src + 12 * SLOT).reinterpretAsInts();
            IntVector w3 = FloatVector.fromArray(F, work, src + 18 * SLOT).reinterpretAsInts();
            IntVector x0 = FloatVector.fromArray(F, work, src + 24 * SLOT).reinterpretAsInts();
            IntVector x1 = FloatVector.fromArray(F, work, src + 30 * SLOT).reinterpretAsInts();
            IntVector e0 = T1_EVEN.selectFrom(w0, w1);
            IntVector e1 = T1_ODD.selectFrom(w0, w1);
            IntVector e2 = T1_EVEN.selectFrom(w2, w3);
            IntVector e3 = T1_ODD.selectFrom(w2, w3);
            int dst = at + 6 * a * vStride;
            T2_LO.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst);
            T2_LO.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + vStride);
            T2_HI.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst + 2 * vStride);
            T2_HI.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + 3 * vStride);
            T4.selectFrom(x0, x1).reinterpretAsFloats().intoArray(v, dst + 4 * vStride);
            T5.selectFrom(x0, x1).reinterpretAsFloats().intoArray(v, dst + 5 * vStride);
        }
    }

    /**
     * Image row from its region's first padded column (at {@code x[rs]}) as {@code len} floats at {@code work[EDGE]}, zeros
     * outside {@code x}: the rows whose vector would reach past either end of it. Returns EDGE.
     */
    private static int edgeRow(float[] x, int rs, int len, float[] work) {
        for (int j = 0; j < len; j++) {
            int i = rs + j;
            work[EDGE + j] = i >= 0 && i < x.length ? x[i] : 0f;
        }
        return EDGE;
    }

    /**
     * The outputs of region {@code ry} of one channel ({@code y[yOff]}, {@code h x w}) from its 36
     * products {@code m[mOff + xi*mStride]} (lanes {@code 4ty + tx}), plus {@code bias}: {@code A^T}
     * over {@code a} for each {@code b} (into {@code work}), over {@code b} for each output row
     * {@code p} of the tiles, then each row {@code 4ty + p} assembled by permutes and stored as
     * {@code w} lanes of a masked store whose vector lies inside {@code y} (or in {@code work}, for
     * rows past the image or a vector past the end of {@code y}, copied from there when in the image).
     */
    private static void outputTransform(float[] y, int yOff, int h, int w, int ry, int rx, float[] m, int mOff, int mStride,
                                        float bias, float[] work) {
        FloatVector two = FloatVector.broadcast(F, 2f);
        FloatVector four = FloatVector.broadcast(F, 4f);
        FloatVector eight = FloatVector.broadcast(F, 8f);
        for (int b = 0; b < 6; b++) { // partial[p][b] = (A^T M)[p][b]
            int src = mOff + b * mStride;
            FloatVector m0 = FloatVector.fromArray(F, m, src);
            FloatVector m1 = FloatVector.fromArray(F, m, src + 6 * mStride);
            FloatVector m2 = FloatVector.fromArray(F, m, src + 12 * mStride);
            FloatVector m3 = FloatVector.fromArray(F, m, src + 18 * mStride);
            FloatVector m4 = FloatVector.fromArray(F, m, src + 24 * mStride);
            FloatVector m5 = FloatVector.fromArray(F, m, src + 30 * mStride);
            FloatVector t1 = m1.add(m2);
            FloatVector t2 = m1.sub(m2);
            FloatVector t3 = m3.add(m4);
            FloatVector t4 = m3.sub(m4);
            int dst = PARTIAL + b * SLOT;
            m0.add(t1).add(t3).intoArray(work, dst);
            t4.fma(two, t2).intoArray(work, dst + 6 * SLOT);
            t3.fma(four, t1).intoArray(work, dst + 12 * SLOT);
            t4.fma(eight, t2).add(m5).intoArray(work, dst + 18 * SLOT);
        }
        int valid = Math.min(SLOT, w - 16 * rx); // columns of the region in the image
        VectorMask<Float> cols = VectorMask.fromLong(F, (1L << valid) - 1);
        for (int p = 0; p < 4; p++) {
            int src = PARTIAL + 6 * p * SLOT;
            FloatVector m0 = FloatVector.fromArray(F, work, src);
            FloatVector m1 = FloatVector.fromArray(F, work, src + SLOT);
            FloatVector m2 = FloatVector.fromArray(F, work, src + 2 * SLOT);
            FloatVector m3 = FloatVector.fromArray(F, work, src + 3 * SLOT);
            FloatVector m4 = FloatVector.fromArray(F, work, src + 4 * SLOT);
            FloatVector m5 = FloatVector.fromArray(F, work, src + 5 * SLOT);
            FloatVector t1 = m1.add(m2);
            FloatVector t2 = m1.sub(m2);
            FloatVector t3 = m3.add(m4);
            FloatVector t4 = m3.sub(m4);
            FloatVector o0 = m0.add(t1).add(t3).add(bias);
            FloatVector o1 = t4.fma(two, t2).add(bias);
            FloatVector o2 = t3.fma(four, t1).add(bias);
            FloatVector o3 = t4.fma(eight, t2).add(m5).add(bias);
            IntVector i0 = o0.reinterpretAsInts();
            IntVector i1 = o1.reinterpretAsInts();
            IntVector i2 = o2.reinterpretAsInts();
            IntVector i3 = o3.reinterpretAsInts();
            IntVector e01lo = OQ_LO.selectFrom(i0, i1);
            IntVector e01hi = OQ_HI.selectFrom(i0, i1);
            IntVector e23lo = OQ_LO.selectFrom(i2, i3);
            IntVector e23hi = OQ_HI.selectFrom(i2, i3);
            // rows 16ry + 4ty + p; a row past the image or whose vector would reach past y goes to work
            // (copied from there when in the image): the same vector code for every row
            int r = 16 * ry + p;
            int at = yOff + r * w + 16 * rx;
            boolean direct = r < h && at + SLOT <= y.length;
            OR_A.selectFrom(e01lo, e23lo).reinterpretAsFloats().intoArray(direct ? y : work, direct ? at : OUT, cols);
            if (!direct && r < h) {
                System.arraycopy(work, OUT, y, at, valid);
            }
            at += 4 * w;
            direct = r + 4 < h && at + SLOT <= y.length;
            OR_B.selectFrom(e01lo, e23lo).reinterpretAsFloats().intoArray(direct ? y : work, direct ? at : OUT, cols);
            if (!direct && r + 4 < h) {
                System.arraycopy(work, OUT, y, at, valid);
            }
            at += 4 * w;
            direct = r + 8 < h && at + SLOT <= y.length;
            OR_A.selectFrom(e01hi, e23hi).reinterpretAsFloats().intoArray(direct ? y : work, direct ? at : OUT, cols);
            if (!direct && r + 8 < h) {
                System.arraycopy(work, OUT, y, at, valid);
            }
            at += 4 * w;
            direct = r + 12 < h && at + SLOT <= y.length;
            OR_B.selectFrom(e01hi, e23hi).reinterpretAsFloats().intoArray(direct ? y : work, direct ? at : OUT, cols);
            if (!direct && r + 12 < h) {
                System.arraycopy(work, OUT, y, at, valid);
            }
        }
    }
}
