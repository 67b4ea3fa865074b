package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input gradient of a layer with few input channels, by scattering: per image, what each
 * output position sends back to every tap, {@code dcol[q, (a, b, c)] = sum_o gy[o, q] * w[o, c, a, b]},
 * is one GEMM (positions x taps, reduced over the output channels) on the GEMM micro-kernel (A
 * read straight from the output gradient, {@code MR} consecutive positions of each channel; B the
 * weight packed once per call in {@code NR}-wide strips of taps), and then each position's
 * contributions are added into a channels-last copy of the input gradient, where the taps
 * {@code (b, c)} of one kernel row are one contiguous run ({@code kw * cg} floats at stride 1);
 * the copy is finally transposed into the NCHW gradient.
 *
 * <p>It multiplies only what lands inside the input: the full correlation of the padded output
 * gradient ({@link ConvFew}) also multiplies the padding's zeros, which for LeNet-5's 6 -> 16
 * layer (10x10 outputs, 14x14 inputs, 5x5 taps) is 2.6 times the useful work, and the im2col
 * path's GEMM writes its columns back through a plane-by-plane col2im. Each value of the gradient
 * is summed in a fixed order (positions, then kernel rows), whatever the thread count: images
 * are split over threads.
 */
final class ConvScatterInput {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /**
     * Per-thread buffers: output gradient with padded channel stride, per-position taps, channels-last gradient,
     * and (accumulating) the gradient transposed back before it is added.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][0]);

    private ConvScatterInput() {
    }

    /**
     * Whether {@code Conv} routes the input gradient here: {@link #can}, and at most 3/5 of the full
     * correlation's work useful ({@code oh*ow <= 0.6 h*w}: each input position meets every tap
     * there, each output position here). Measured on Zen 1, 1 thread, batch 64, against {@link
     * ConvFew} (min of 5 rounds, ms): LeNet-5's 6 -> 16 at 14x14 without padding (51% useful) 2.31 vs
     * 1.46; 4 -> 32 at 12x12 k3 unpadded (69%) 0.97 vs 0.86; but 6 -> 16 at 14x14 k3 unpadded (73%)
     * 0.81 vs 1.18, 3 -> 16 at 28x28 k5 unpadded (73%) 4.2 vs 4.7, 3 -> 32 at 32x32 k3 unpadded (88%)
     * 3.8 vs 6.9, and "same" layers (6 -> 16 k5 padding 2: 2.26 vs 3.13).
     */
    static boolean suits(ConvGeom g) {
        return can(g) && 5L * g.oh() * g.ow() <= 3L * g.h() * g.w();
    }

    /**
     * Whether the geometry can take this path: vector lanes on a 16-register machine, at most 6
     * input channels per group, at least {@code NR} taps per position ({@code cg*kh*kw}) and 8
     * output channels, no dilation across.
     */
    static boolean can(ConvGeom g) {
        return !Simd.SCALAR && Simd.REGISTERS == 16 && g.cPerGroup() <= 6 && g.ocPerGroup() >= 8 && g.dw() == 1
                && g.cPerGroup() * g.kh() * g.kw() >= NR
                && (long) g.oh() * g.ow() * (g.kh() * rowTaps(g) + NR) < Integer.MAX_VALUE / 2;
    }

    /** {@code Conv.conv2dBackwardInput} (arguments checked, {@link #can}), adding to {@code gx} when {@code accumulate}. */
    static void backwardInput(boolean accumulate, float[] gx, float[] gy, float[] w, ConvGeom g) {
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        int kh = g.kh();
        int kw = g.kw();
        int kk = kh * kw;
        int rowT = rowTaps(g);
        int strips = (kh * rowT + NR - 1) / NR;
        int tp = strips * NR;
        int groups = g.groups();
        // wB[gi][strip][o][j] = w[gi*ocg + o, c, a, b] for tap a*rowT + b*cg + c = strip*NR + j (zero elsewhere: each
        // kernel row's run of kw*cg taps padded to whole vectors, and past the last row)
        int wg = strips * ocg * NR;
        float[] wB = ConvDirect.packedWeights(groups * wg);
        Arrays.fill(wB, 0, groups * wg, 0f);
        for (int gi = 0; gi < groups; gi++) {
            for (int o = 0; o < ocg; o++) {
                for (int c = 0; c < cg; c++) {
                    for (int ab = 0; ab < kk; ab++) {
                        int t = ab / kw * rowT + ab % kw * cg + c;
                        wB[gi * wg + ((t / NR) * ocg + o) * NR + t % NR] = w[((gi * ocg + o) * cg + c) * kk + ab];
                    }
                }
            }
        }
        int p = g.oh() * g.ow();
        int pp = (p + MR - 1) / MR * MR;
        int h = g.h();
        int wd = g.w();
        int hw = h * wd;
        ConvPacked.eachImage(g.n(), img -> {
            float[][] s = SCRATCH.get();
            if (s[0].length < ocg * pp + L) {
                s[0] = new float[ocg * pp + L];
            }
            if (s[1].length < pp * tp + L) {
                s[1] = new float[pp * tp + L];
            }
            if (s[2].length < hw * cg + 2 * L) {
                s[2] = new float[hw * cg + 2 * L];
            }
            float[] gyc = s[0];
            float[] dcol = s[1];
            float[] gxT = s[2];
            for (int gi = 0; gi < groups; gi++) {
                int src = (img * g.oc() + gi * ocg) * p;
                for (int o = 0; o < ocg; o++) { // channel stride pp: tiles of MR positions stay inside a channel
                    System.arraycopy(gy, src + o * p, gyc, o * pp, p);
                    Arrays.fill(gyc, o * pp + p, (o + 1) * pp, 0f);
                }
                if (GemmJit.use) { // per strip of taps, the tiles down the positions in one call
                    for (int st = 0; st < strips; st++) {
                        GemmJit.tiles(gyc, 0, pp, MR, wB, gi * wg + st * ocg * NR, NR, 0, dcol, st * NR, tp, MR * tp,
                                ocg, pp / MR, false, null, 0, 0, false);
                    }
                } else {
                    for (int q0 = 0; q0 < pp; q0 += MR) {
                        for (int st = 0; st < strips; st++) {
                            GemmMicro.kernel(ocg, gyc, q0, pp, wB, gi * wg + st * ocg * NR, NR, dcol, q0 * tp + st * NR,
                                    tp, false, null, 0, false);
                        }
                    }
                }
                scatter(gxT, dcol, tp, rowT, g);
                int dst = (img * g.c() + gi * cg) * hw;
                if (accumulate) {
                    if (s[3].length < hw * cg) {
                        s[3] = new float[hw * cg];
                    }
                    ConvDirect.transpose(s[3], 0, hw, gxT, 0, cg, hw, cg);
                    ConvLowering.addInto(gx, dst, s[3], 0, hw * cg);
                } else {
                    ConvDirect.transpose(gx, dst, hw, gxT, 0, cg, hw, cg);
                }
            }
        });
    }

    /** Floats per kernel row in a position's taps: {@code kw * cg}, rounded up to whole vectors. */
    static int rowTaps(ConvGeom g) {
        return (g.kw() * g.cPerGroup() + L - 1) / L * L;
    }

    /**
     * {@code gxT[(y*w + x)*cg + c] = sum over positions q and kernel rows a of dcol[q*tp + a*rowT + b*cg + c]}
     * for the taps that land inside the input ({@code y = i*sh - ph + a*dh}, {@code x = j*sw - pw + b}):
     * a kernel row wholly inside as whole vectors (its padding taps are zeros, and {@code gxT} has a
     * vector of slack), one cut by the border value by value.
     */
    private static void scatter(float[] gxT, float[] dcol, int tp, int rowT, ConvGeom g) {
        int cg = g.cPerGroup();
        int kw = g.kw();
        int h = g.h();
        int wd = g.w();
        int ow = g.ow();
        Arrays.fill(gxT, 0, h * wd * cg + L, 0f);
        for (int i = 0; i < g.oh(); i++) {
            for (int j = 0; j < ow; j++) {
                int q = i * ow + j;
                int x0 = j * g.sw() - g.pw();
                int bLo = Math.max(0, -x0);
                int bHi = Math.min(kw - 1, wd - 1 - x0);
                boolean whole = bLo == 0 && bHi == kw - 1;
                for (int a = 0; a < g.kh(); a++) {
                    int y = i * g.sh() - g.ph() + a * g.dh();
                    if (y < 0 || y >= h || bLo > bHi) {
                        continue;
                    }
                    int d = (y * wd + x0) * cg;
                    int sc = q * tp + a * rowT;
                    if (whole) {
                        for (int k = 0; k < rowT; k += L) {
                            FloatVector.fromArray(F, gxT, d + k).add(FloatVector.fromArray(F, dcol, sc + k)).intoArray(gxT, d + k);
                        }
                    } else {
                        for (int k = bLo * cg; k < (bHi + 1) * cg; k++) {
                            gxT[d + k] += dcol[sc + k];
                        }
                    }
                }
            }
        }
    }
}
