package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3x3 stride-1 "same" convolutions by Winograd's minimal filtering F(2x2, 3x3): each 2x2 block of
 * outputs (a tile) of each output channel from its 4x4 patch of input, with 16 multiplies per
 * input channel instead of 36. Per tile and channel the patch {@code d} becomes {@code V = B^T d B}
 * and the weight {@code g} becomes {@code U = G g G^T} (both 4x4); for each of the 16 positions
 * {@code xi} of those, {@code M[xi] = U[xi] V[xi]} is a GEMM (output channels x input channels
 * times input channels x tiles, the {@link ConvMicro#kernel} tile over 8 output channels and 32
 * tiles); the tile's outputs are {@code A^T M A}. The transforms are additions only (and halves in
 * {@code G}), so the GEMMs hold all the multiplies: 2.25x fewer than the direct convolution's, less
 * the tiles that pad each row of tiles to a vector.
 *
 * <p>Layout: a row of tiles (10 to 15: widths 20 to 30) in the lanes of one vector, two rows to
 * each 32-tile block of the GEMM; per thread, chunks of blocks of one image at a time
 * ({@link #chunkBlocks}: the transformed input about 128 KB, in L2); per 8 output channels, the
 * 16 GEMMs' products (16 KB at 32 tiles, in L1), then the output transform writes NCHW rows
 * straight from them (two vectors of tile outputs interleaved into one output row). Measured at
 * 32 -> 32, 28x28, batch 64, 1 thread, per call: input transform 0.80 ms, GEMMs 2.51, output
 * transform 0.59 (the direct forward pass: 4.9-5.2 ms).
 *
 * <p>Rounding differs from the direct convolution's (the transforms add and subtract before the
 * multiplies: errors of a few ulps of the largest input times weight, as cuDNN's and NNPACK's
 * Winograd paths); each value is computed by the same operations in the same order whatever the
 * thread count.
 */
final class ConvWinograd {
    private static final VectorSpecies<Float> F = Simd.F;
    /** Tiles per row of tiles (one vector's lanes). */
    private static final int SLOT = 16;
    /**
     * Source lanes of the padded row (two vectors) for tile lane {@code t}: column {@code 2t + s}
     * in {@code TAP<s>}. Constants in fields, not an array's elements: C2 then knows their class
     * when it compiles the {@code selectFrom} calls on them, instead of guessing it from the
     * profile; a JVM whose shared Vector API methods had seen 100 wrong guesses (class-check
     * traps, from code that uses several vector sizes) compiled such calls as virtual calls
     * and boxed every vector passed to them.
     */
    private static final IntVector TAP0;
    private static final IntVector TAP1;
    private static final IntVector TAP2;
    private static final IntVector TAP3;
    /** Interleave of two vectors of tile columns into output columns 0-15 and 16-31. */
    private static final IntVector LO;
    private static final IntVector HI;
    /** The addends of {@link #outputTransform} when it writes instead of adding. */
    private static final float[] ZEROS = new float[SLOT];
    private static final ThreadLocal<float[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[4 * SLOT]});

    static {
        IntVector[] tap = new IntVector[4];
        if (F.length() == SLOT) {
            for (int s = 0; s < 4; s++) {
                float[] idx = new float[SLOT];
                for (int t = 0; t < SLOT; t++) {
                    idx[t] = (2 * t + s) & 31;
                }
                tap[s] = ints(idx);
            }
            float[] lo = new float[SLOT];
            float[] hi = new float[SLOT];
            for (int l = 0; l < SLOT; l++) {
                lo[l] = (l % 2 == 0 ? 0 : SLOT) + l / 2;
                hi[l] = (l % 2 == 0 ? 0 : SLOT) + 8 + l / 2;
            }
            LO = ints(lo);
            HI = ints(hi);
        } else {
            LO = null;
            HI = null;
        }
        TAP0 = tap[0];
        TAP1 = tap[1];
        TAP2 = tap[2];
        TAP3 = tap[3];
    }

    private ConvWinograd() {
    }

    /**
     * Permute indices as an int vector, for {@code selectFrom} on the float vectors' bits as ints:
     * with a float index vector it converts and wraps the indices at every call (3.1 against 1.4 ns
     * per permute of two loaded vectors; an addition 1.3), with ints it is one {@code vpermt2d}.
     */
    static IntVector ints(float[] idx) {
        int[] a = new int[idx.length];
        for (int l = 0; l < a.length; l++) {
            a[l] = (int) idx[l];
        }
        return IntVector.fromArray(IntVector.SPECIES_512, a, 0);
    }

    /**
     * Whether {@code Conv} routes the layers that suit it here: yes unless {@code
     * -Dkiln.conv.winograd=false} (then the direct kernels, which round as the reference does).
     * It was opt-in while one {@code kiln bench} run in five had C2 box these loops' vectors;
     * the cause is found and the loops no longer depend on it (see {@link #TAP0}).
     */
    static final boolean ENABLED = !"false".equals(System.getProperty("kiln.conv.winograd"));

    /** The least input channels (the GEMMs' depth) worth the transforms: measured, see {@link #suitsForward}. */
    static final int MIN_DEPTH = 32;

    /**
     * Whether {@code g}'s forward pass runs here: 3x3, stride 1, padding 1, no dilation or groups,
     * even height, even width 20 to 30 (rows of 10 to 15 tiles in 16 lanes), at least
     * {@link #MIN_DEPTH} input channels, output channels in eights. Measured, 1 thread, batch 64,
     * min of 10 alternating 0.3 s rounds, this against the path it replaces (forward / input
     * gradient, ms): 32 -> 32 at 28x28 4.00 vs 5.20 / 4.22 vs 5.27; 64 -> 64 at 28x28 13.9 vs 19.6 /
     * 15.0 vs 19.7; 32 -> 64 at 28x28 8.0 vs 10.2 / 8.2 vs 10.3; 64 -> 32 at 20x20 10.5 vs 15.5 /
     * 11.3 vs 13.1; 32 -> 32 at 30x30 4.9 vs 7.9 / 5.1 vs 8.0. Left out: 32 -> 32 at 18x18 (9 of
     * 16 lanes: 3.03 vs 2.47 forward) and 16 input channels (16 -> 32 at 24x24 forward 2.25 vs 2.13).
     */
    static boolean suitsForward(ConvGeom g) {
        return suitsGeometry(g) && g.c() >= MIN_DEPTH && g.oc() % MR == 0;
    }

    /** As {@link #suitsForward} for the input gradient: the output gradient's channels are the depth. */
    static boolean suitsInput(ConvGeom g) {
        return suitsGeometry(g) && g.oc() >= MIN_DEPTH && g.c() % MR == 0;
    }

    /**
     * What every Winograd kernel here needs: 16-lane vectors and the conv micro-kernel's 8 x 32
     * tile, a 3x3 kernel, stride 1, padding 1, no dilation or groups, a non-empty image.
     */
    static boolean sameLayer(ConvGeom g) {
        return !Simd.SCALAR && F.length() == SLOT && MR == 8 && NR == 2 * SLOT && g.kh() == 3 && g.kw() == 3
                && g.sh() == 1 && g.sw() == 1 && g.dh() == 1 && g.dw() == 1 && g.ph() == 1 && g.pw() == 1 && g.groups() == 1
                && g.h() > 0 && g.w() > 0;
    }

    static boolean suitsGeometry(ConvGeom g) {
        return sameLayer(g) && g.h() % 2 == 0 && g.w() % 2 == 0 && g.w() >= 20 && g.w() <= 2 * SLOT - 2
                && 16L * g.c() * g.oc() < Integer.MAX_VALUE;
    }

    /** {@code Conv.conv2d} (arguments checked, {@link #suitsForward}). */
    static void forward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(16 * g.c() * g.oc());
        transformWeights(u, w, g.oc(), g.c(), false);
        conv2d(false, y, x, u, bias, g.n(), g.c(), g.oc(), g.h(), g.w());
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked, {@link #suitsInput}): the forward pass
     * of the output gradient with the weight's channel axes swapped and its taps rotated by 180
     * degrees; adds to {@code gx} when {@code acc} ({@code gx + dL/dx}, the same bits as writing
     * {@code dL/dx} and then adding it).
     */
    static void backwardInput(boolean acc, float[] gx, float[] gy, float[] w, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(16 * g.c() * g.oc());
        transformWeights(u, w, g.c(), g.oc(), true);
        conv2d(acc, gx, gy, u, null, g.n(), g.oc(), g.c(), g.h(), g.w());
    }

    /**
     * {@code y (=|+=) conv(x, w) (+ bias)} for {@code n} images, {@code c -> oc} channels, {@code h x w}
     * (geometry as {@link #suitsGeometry}): adds to {@code y} when {@code acc} (then {@code bias} must be
     * null). {@code u} holds the transformed weights ({@link #transformWeights}).
     */
    static void conv2d(boolean acc, float[] y, float[] x, float[] u, float[] bias, int n, int c, int oc, int h, int w) {
        int th = h / 2;
        int blocks = (th + 1) / 2;
        int cb = chunkBlocks(c, oc, blocks);
        int chunks = (blocks + cb - 1) / cb;
        int[] idx = new int[c];
        for (int ci = 0; ci < c; ci++) {
            idx[ci] = ci * oc;
        }
        int tl = cb * NR;
        int vStride = vStride(c, cb);
        int mStride = mStride(oc, cb);
        // (image, chunk) units handed out one at a time, each to whichever thread asks next
        ConvPacked.eachImage(n * chunks, unit -> {
            float[][] s = SCRATCH.get();
            if (s[0].length < 16 * vStride) {
                s[0] = new float[16 * vStride];
            }
            if (s[1].length < 16 * mStride) {
                s[1] = new float[16 * mStride];
            }
            float[] v = s[0];
            float[] m = s[1];
            float[] edge = s[2];
            int img = unit / chunks;
            int b0 = unit % chunks * cb;
            int nb = Math.min(cb, blocks - b0);
            int ti0 = 2 * b0;
            int xImg = img * c * h * w;
            for (int ci = 0; ci < c; ci++) {
                inputTransform(v, ci, c, cb, x, xImg + ci * h * w, h, w, ti0, 2 * nb, edge);
            }
            int yImg = img * oc * h * w;
            int rows = Math.min(2 * nb, th - ti0);
            for (int o0 = 0; o0 < oc; o0 += MR) {
                for (int xi = 0; xi < 16; xi++) {
                    for (int b = 0; b < nb; b++) {
                        ConvMicro.kernel(c, u, idx, 0, xi * c * oc + o0, v, xi * vStride + b * c * NR, m,
                                xi * mStride + b * NR, tl, false);
                    }
                }
                for (int o = o0; o < o0 + MR; o++) {
                    float bo = bias == null ? 0f : bias[o];
                    for (int r = 0; r < rows; r++) {
                        outputTransform(acc, y, yImg + (o * h + 2 * (ti0 + r)) * w, w, m, (o - o0) * tl + r * SLOT, mStride,
                                bo, r == rows - 1, edge);
                    }
                }
            }
        });
    }

    /**
     * Floats from one {@code xi}'s transformed input to the next's: a cache line more than it
     * needs, so that the 16 stores of one tile row's transform (and the 16 loads of the output
     * transform, {@link #mStride}) do not all fall into one L1 set, as they did with strides
     * of 8 KB (input transform 3.6 ms against 2.1 at 32 -> 32, 28x28, batch 64, before the
     * other changes in {@link #inputTransform}).
     */
    static int vStride(int c, int cb) {
        return cb * c * NR + SLOT;
    }

    /** As {@link #vStride} for the products of 8 output channels. */
    static int mStride(int oc, int cb) {
        return MR * cb * NR + SLOT;
    }

    /** 32-tile blocks per chunk: transformed input plus products near 256 KB. */
    static int chunkBlocks(int c, int oc, int blocks) {
        return Math.clamp(128 / (c + oc), 1, blocks);
    }

    /**
     * {@code u[(xi*c + ci)*oc + o] = (G g G^T)[xi]} for {@code g = w[o, ci]} ({@code w} as
     * {@code [oc, c, 3, 3]}), or when {@code flip}, for {@code g = w[ci, o]} rotated by 180 degrees
     * ({@code w} as {@code [c, oc, 3, 3]}: the input gradient's convolution of the output gradient).
     */
    static void transformWeights(float[] u, float[] w, int oc, int c, boolean flip) {
        float[] t = new float[12];
        float[] uu = new float[16];
        // one input channel's 16 rows of oc values, then copied to u (stored straight into u, rows
        // 4 * c * oc bytes apart fell into one L1 set; see ConvWinogradF4.transformWeights)
        float[] row = new float[16 * oc];
        for (int ci = 0; ci < c; ci++) {
            for (int o = 0; o < oc; o++) {
                transformKernel(uu, t, w, flip ? (ci * oc + o) * 9 : (o * c + ci) * 9, flip);
                for (int xi = 0; xi < 16; xi++) {
                    row[xi * oc + o] = uu[xi];
                }
            }
            for (int xi = 0; xi < 16; xi++) {
                System.arraycopy(row, xi * oc, u, (xi * c + ci) * oc, oc);
            }
        }
    }

    /**
     * {@code uu[4a + b] = (G g G^T)[a][b]} for the 3x3 kernel {@code g} at {@code w[base]} (rotated by
     * 180 degrees when {@code flip}), {@code t} 12 floats of work space: F(2x2, 3x3)'s weight
     * transform, shared by the kernels that use it so that they round alike.
     */
    static void transformKernel(float[] uu, float[] t, float[] w, int base, boolean flip) {
        for (int j = 0; j < 3; j++) { // G g: rows 0..3 of column j
            float g0 = w[base + (flip ? 8 - j : j)];
            float g1 = w[base + (flip ? 5 - j : 3 + j)];
            float g2 = w[base + (flip ? 2 - j : 6 + j)];
            t[j] = g0;
            t[3 + j] = 0.5f * (g0 + g1 + g2);
            t[6 + j] = 0.5f * (g0 - g1 + g2);
            t[9 + j] = g2;
        }
        for (int a = 0; a < 4; a++) { // (G g) G^T
            float r0 = t[3 * a];
            float r1 = t[3 * a + 1];
            float r2 = t[3 * a + 2];
            uu[4 * a] = r0;
            uu[4 * a + 1] = 0.5f * (r0 + r1 + r2);
            uu[4 * a + 2] = 0.5f * (r0 - r1 + r2);
            uu[4 * a + 3] = r2;
        }
    }

    /**
     * The 16 vectors {@code B^T d B} of channel {@code ci} for tile rows {@code [ti0, ti0 + rows)}
     * (those past the image read zeros) into {@code v}, block-major ({@code ((xi*cb + b)*c + ci)*NR
     * + (r % 2)*16 + tile}); each padded row's column transform once, the two rows shared by
     * consecutive rows of tiles carried over in registers (the first two rows' load and column
     * transform are written out before the loop as well as in it: a loop starting one pass
     * earlier, or over a window of three rows, was 8-15% slower). A padded row is read as two
     * vectors, unmasked, the padding lanes zeroed by a blend: masked loads took the transform
     * from 0.8 to 1.9 ms at 32 -> 32, 28x28. Rows that lie
     * past either end of {@code x} or of the image are read from {@code edge} ({@link #edgeRow}), so
     * that the vector code has no branches: C2 compiles a branch its profile never saw as virtual
     * calls when the shared Vector API methods have met too many wrong class guesses, and those
     * box the vectors (see {@link #TAP0}).
     */
    private static void inputTransform(float[] v, int ci, int c, int cb, float[] x, int xOff, int h, int w, int ti0,
                                       int rows, float[] edge) {
        int xiStride = vStride(c, cb);
        VectorMask<Float> padFirst = VectorMask.fromLong(F, 1L);
        VectorMask<Float> padSecond = VectorMask.fromLong(F, (-1L << (w - SLOT + 1)) & 0xFFFF);
        int pr = 2 * ti0;
        // padded rows 2*ti0 (a) and 2*ti0 + 1 (b), column-transformed
        int rs = xOff + (pr - 1) * w;
        boolean inside = pr >= 1 && pr <= h && rs >= 1 && rs + 2 * SLOT - 1 <= x.length;
        int at = inside ? rs - 1 : edgeRow(x, xOff, h, w, pr, edge, 0);
        float[] src = inside ? x : edge;
        FloatVector p0 = FloatVector.fromArray(F, src, at).blend(0f, padFirst);
        FloatVector p1 = FloatVector.fromArray(F, src, at + SLOT).blend(0f, padSecond);
        IntVector q0 = p0.reinterpretAsInts();
        IntVector q1 = p1.reinterpretAsInts();
        FloatVector d0 = TAP0.selectFrom(q0, q1).reinterpretAsFloats();
        FloatVector d1 = TAP1.selectFrom(q0, q1).reinterpretAsFloats();
        FloatVector d2 = TAP2.selectFrom(q0, q1).reinterpretAsFloats();
        FloatVector d3 = TAP3.selectFrom(q0, q1).reinterpretAsFloats();
        FloatVector a0 = d0.sub(d2);
        FloatVector a1 = d1.add(d2);
        FloatVector a2 = d2.sub(d1);
        FloatVector a3 = d1.sub(d3);
        rs = xOff + pr * w;
        inside = pr + 1 <= h && rs >= 1 && rs + 2 * SLOT - 1 <= x.length;
        at = inside ? rs - 1 : edgeRow(x, xOff, h, w, pr + 1, edge, 2 * SLOT);
        src = inside ? x : edge;
        p0 = FloatVector.fromArray(F, src, at).blend(0f, padFirst);
        p1 = FloatVector.fromArray(F, src, at + SLOT).blend(0f, padSecond);
        q0 = p0.reinterpretAsInts();
        q1 = p1.reinterpretAsInts();
        d0 = TAP0.selectFrom(q0, q1).reinterpretAsFloats();
        d1 = TAP1.selectFrom(q0, q1).reinterpretAsFloats();
        d2 = TAP2.selectFrom(q0, q1).reinterpretAsFloats();
        d3 = TAP3.selectFrom(q0, q1).reinterpretAsFloats();
        FloatVector b0 = d0.sub(d2);
        FloatVector b1 = d1.add(d2);
        FloatVector b2 = d2.sub(d1);
        FloatVector b3 = d1.sub(d3);
        for (int r = 0; r < rows; r++) {
            pr += 2;
            // rows c (2r + 2) and g (2r + 3)
            rs = xOff + (pr - 1) * w;
            inside = pr >= 1 && pr <= h && rs >= 1 && rs + 2 * SLOT - 1 <= x.length;
            at = inside ? rs - 1 : edgeRow(x, xOff, h, w, pr, edge, 0);
            src = inside ? x : edge;
            p0 = FloatVector.fromArray(F, src, at).blend(0f, padFirst);
            p1 = FloatVector.fromArray(F, src, at + SLOT).blend(0f, padSecond);
            q0 = p0.reinterpretAsInts();
            q1 = p1.reinterpretAsInts();
            d0 = TAP0.selectFrom(q0, q1).reinterpretAsFloats();
            d1 = TAP1.selectFrom(q0, q1).reinterpretAsFloats();
            d2 = TAP2.selectFrom(q0, q1).reinterpretAsFloats();
            d3 = TAP3.selectFrom(q0, q1).reinterpretAsFloats();
            FloatVector c0 = d0.sub(d2);
            FloatVector c1 = d1.add(d2);
            FloatVector c2 = d2.sub(d1);
            FloatVector c3 = d1.sub(d3);
            rs = xOff + pr * w;
            inside = pr + 1 <= h && rs >= 1 && rs + 2 * SLOT - 1 <= x.length;
            at = inside ? rs - 1 : edgeRow(x, xOff, h, w, pr + 1, edge, 2 * SLOT);
            src = inside ? x : edge;
            p0 = FloatVector.fromArray(F, src, at).blend(0f, padFirst);
            p1 = FloatVector.fromArray(F, src, at + SLOT).blend(0f, padSecond);
            q0 = p0.reinterpretAsInts();
            q1 = p1.reinterpretAsInts();
            d0 = TAP0.selectFrom(q0, q1).reinterpretAsFloats();
            d1 = TAP1.selectFrom(q0, q1).reinterpretAsFloats();
            d2 = TAP2.selectFrom(q0, q1).reinterpretAsFloats();
            d3 = TAP3.selectFrom(q0, q1).reinterpretAsFloats();
            FloatVector g0 = d0.sub(d2);
            FloatVector g1 = d1.add(d2);
            FloatVector g2 = d2.sub(d1);
            FloatVector g3 = d1.sub(d3);
            int dst = ((r / 2) * c + ci) * NR + (r % 2) * SLOT;
            a0.sub(c0).intoArray(v, dst);
            a1.sub(c1).intoArray(v, dst + xiStride);
            a2.sub(c2).intoArray(v, dst + 2 * xiStride);
            a3.sub(c3).intoArray(v, dst + 3 * xiStride);
            b0.add(c0).intoArray(v, dst + 4 * xiStride);
            b1.add(c1).intoArray(v, dst + 5 * xiStride);
            b2.add(c2).intoArray(v, dst + 6 * xiStride);
            b3.add(c3).intoArray(v, dst + 7 * xiStride);
            c0.sub(b0).intoArray(v, dst + 8 * xiStride);
            c1.sub(b1).intoArray(v, dst + 9 * xiStride);
            c2.sub(b2).intoArray(v, dst + 10 * xiStride);
            c3.sub(b3).intoArray(v, dst + 11 * xiStride);
            b0.sub(g0).intoArray(v, dst + 12 * xiStride);
            b1.sub(g1).intoArray(v, dst + 13 * xiStride);
            b2.sub(g2).intoArray(v, dst + 14 * xiStride);
            b3.sub(g3).intoArray(v, dst + 15 * xiStride);
            a0 = c0; a1 = c1; a2 = c2; a3 = c3;
            b0 = g0; b1 = g1; b2 = g2; b3 = g3;
        }
    }

    /**
     * Padded row {@code pr} (row {@code pr - 1} of the image at {@code x[xOff]}, zeros outside it)
     * written to {@code edge[edgeOff, edgeOff + 2*SLOT)} for {@link #inputTransform}, which reads it
     * there (returned: {@code edgeOff}) when it lies outside the image or its two vectors would
     * reach past either end of {@code x}. (Not masked loads: a masked load whose vector reaches
     * past its array runs the Vector API's out-of-range path, and C2 then keeps that path in
     * every caller of the shared method.)
     */
    private static int edgeRow(float[] x, int xOff, int h, int w, int pr, float[] edge, int edgeOff) {
        java.util.Arrays.fill(edge, edgeOff, edgeOff + 2 * SLOT, 0f);
        if (pr >= 1 && pr <= h) {
            System.arraycopy(x, xOff + (pr - 1) * w, edge, edgeOff + 1, w);
        }
        return edgeOff;
    }

    /**
     * Output rows {@code 2ti} and {@code 2ti + 1} (at {@code y[yOff]} and {@code y[yOff + w]}) of one
     * channel from its products for one row of tiles ({@code m[mOff + xi*mStride + tile]}), plus
     * {@code bias}, plus what {@code y} held when {@code acc}. Each row is stored as two whole
     * vectors, the second reaching into the next row (lanes {@code w - SLOT} on, zero before the
     * addition): the next row's store, later in the same thread, writes over them. The last row
     * of a chunk ({@code last}) ends through {@code edge} instead: the row after it belongs to
     * another chunk, maybe another thread.
     *
     * <p>One path for all cases, no masked loads or stores, nothing that only some calls take:
     * the bias is always added (0 without one: only a -0 becomes +0), and without {@code acc} the
     * addends come from {@link #ZEROS}. C2 compiles code a profile never saw as virtual calls once
     * the shared Vector API methods have met too many wrong class guesses, and those box every
     * vector they touch (see {@link #TAP0}).
     */
    private static void outputTransform(boolean acc, float[] y, int yOff, int w, float[] m, int mOff, int mStride,
                                        float bias, boolean last, float[] edge) {
        FloatVector a0 = FloatVector.fromArray(F, m, mOff);
        FloatVector a1 = FloatVector.fromArray(F, m, mOff + 4 * mStride);
        FloatVector a2 = FloatVector.fromArray(F, m, mOff + 8 * mStride);
        FloatVector a3 = FloatVector.fromArray(F, m, mOff + 12 * mStride);
        FloatVector s0 = a0.add(a1).add(a2);
        FloatVector u0 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 5 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 9 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 13 * mStride);
        FloatVector s1 = a0.add(a1).add(a2);
        FloatVector u1 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + 2 * mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 6 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 10 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 14 * mStride);
        FloatVector s2 = a0.add(a1).add(a2);
        FloatVector u2 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + 3 * mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 7 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 11 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 15 * mStride);
        FloatVector s3 = a0.add(a1).add(a2);
        FloatVector u3 = a1.sub(a2).sub(a3);
        FloatVector e0 = s0.add(s1).add(s2).add(bias);
        FloatVector e1 = s1.sub(s2).sub(s3).add(bias);
        FloatVector f0 = u0.add(u1).add(u2).add(bias);
        FloatVector f1 = u1.sub(u2).sub(u3).add(bias);
        int row1 = yOff + w;
        int tail = w - SLOT;
        VectorMask<Float> past = VectorMask.fromLong(F, (-1L << tail) & 0xFFFF);
        FloatVector zero = FloatVector.zero(F);
        float[] add = acc ? y : ZEROS;
        float[] add1 = acc && !last ? y : ZEROS;
        IntVector ie0 = e0.reinterpretAsInts();
        IntVector ie1 = e1.reinterpretAsInts();
        IntVector if0 = f0.reinterpretAsInts();
        IntVector if1 = f1.reinterpretAsInts();
        FloatVector lo0 = LO.selectFrom(ie0, ie1).reinterpretAsFloats().add(FloatVector.fromArray(F, add, acc ? yOff : 0));
        FloatVector hi0 = HI.selectFrom(ie0, ie1).reinterpretAsFloats().blend(0f, past)
                .add(FloatVector.fromArray(F, add, acc ? yOff + SLOT : 0));
        FloatVector lo1 = LO.selectFrom(if0, if1).reinterpretAsFloats().add(FloatVector.fromArray(F, add, acc ? row1 : 0));
        FloatVector hi1 = HI.selectFrom(if0, if1).reinterpretAsFloats().blend(0f, past)
                .add(FloatVector.fromArray(F, add1, acc && !last ? row1 + SLOT : 0));
        lo0.intoArray(y, yOff);
        hi0.intoArray(y, yOff + SLOT);
        lo1.intoArray(y, row1);
        if (!last) {
            hi1.intoArray(y, row1 + SLOT);
        } else {
            hi1.intoArray(edge, 0);
            int at = row1 + SLOT;
            if (acc) {
                for (int j = 0; j < tail; j++) {
                    y[at + j] += edge[j];
                }
            } else {
                System.arraycopy(edge, 0, y, at, tail);
            }
        }
    }
}
