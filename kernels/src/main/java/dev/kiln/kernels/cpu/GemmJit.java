package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;
import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.kiln.kernels.cpu.x86.FmaGemmCode;
import dev.kiln.kernels.cpu.x86.JitCode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The fp32 GEMM's full tiles as x86-64 machine code generated at run time ({@link FmaGemmCode}) on
 * AVX2 + FMA machines with 16 vector registers, where {@link GemmMicro}'s tiles have 5 rows: a run
 * of tiles per call, the same float operations as {@link GemmMicro#kernel} in the same order, so
 * the same bits.
 *
 * <p>Why: a run of tiles per call, and tiles of few steps cost less around their loop. Zen 1, 1
 * thread, batch 64, the code on and off in turn in one JVM (best of 24 x 5 calls): the packed
 * convolution forward of 3 -> 32 at 32 x 32 5.93 -> 5.44 ms, 1 -> 32 at 28 x 28 (9 taps) 2.98 ->
 * 2.56 ms; the flattened-tile Winograd's per-frequency products (runs of tiles down the panels of
 * output channels), two runs in turn: 32 -> 32 at 28x28 forward 23.2 -> 22.3 and 22.4 -> 21.8 ms,
 * 32 -> 64 at 16x16 11.8 -> 10.9 and 12.1 -> 11.3, 64 -> 128 at 8x8 11.0 -> 10.5 and 11.1 -> 10.5,
 * but 64 -> 64 at 14x14 16.7 -> 17.8 and 18.7 -> 18.2; its weight gradient (runs down the input
 * channels of the transformed input, read in place with A's steps {@code cs} floats apart), three
 * runs in turn: 32 -> 32 at 28x28 1.04-1.07x, 32 -> 64 at 16x16 1.01-1.07x, 64 -> 128 at 8x8
 * 1.12-1.32x, 32 -> 64 at 14x14 1.01-1.10x, 64 -> 64 at 14x14 1.00-1.08x. On large {@code sgemm}
 * it is level within the host's noise: {@code tools/PropertyAB.java}
 * ({@code kiln.gemm.jit false true}, geometric mean over both orders of loading, two runs) 2048^3
 * 0.98x and 1.03x, 1024^3 1.04x and 1.01x on 1 thread, 1.01x on 2. On a tile alone with A and B in
 * L1/L2 the two kernels are level. Prefetching A, B or C's rows from the code changed nothing
 * measurable.
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing avx2 and
 * fma, tiles of {@code 5 x 16}, the self check passing, and no {@code -Dkiln.gemm.jit=false}. Every
 * argument is checked in Java first ({@link #tiles}), since a bad address would crash the JVM
 * rather than throw.
 */
final class GemmJit {
    /** Whether the code can run here. */
    static final boolean SUPPORTED;
    /** Whether the GEMM uses it by default. */
    static final boolean ENABLED;
    /** Whether it uses it now: {@link #ENABLED} unless a test or benchmark turns it off (never on where unsupported). */
    static volatile boolean use;
    private static final ThreadLocal<long[]> ARGS = ThreadLocal.withInitial(() -> new long[FmaGemmCode.ARGS]);
    /** Both codes' signature, {@code void f(a, b, c, bias, args)}; set before the static block's self-check uses it. */
    private static final FunctionDescriptor SIGNATURE =
            FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);

    static {
        boolean ok = MR <= FmaGemmCode.MAX_ROWS && NR == 16
                && JitCode.usable(GemmJit::selfCheck, "avx2", "fma");
        SUPPORTED = ok;
        ENABLED = ok && Boolean.parseBoolean(System.getProperty("kiln.gemm.jit", "true"));
        use = ENABLED;
    }

    private GemmJit() {
    }

    /** Turns the code on (where {@link #SUPPORTED}) or off; returns whether it was on. Tests and benchmarks only. */
    static boolean use(boolean on) {
        boolean was = use;
        use = on && SUPPORTED;
        return was;
    }

    /**
     * Three tiles (packed B, then B in place with a bias, then ReLU over old C) against
     * {@link GemmMicro#kernel}, bit for bit, nothing else written.
     */
    private static boolean selfCheck() {
        int kc = 7;
        int ldc = 37;
        float[] ap = new float[3 * MR * kc + 2];
        float[] bp = new float[3 + 40 * kc];
        float[] bias = new float[NR + 5];
        for (int i = 0; i < ap.length; i++) {
            ap[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        for (int i = 0; i < bp.length; i++) {
            bp[i] = (i * 53 % 97 - 48) * 0.07f;
        }
        for (int i = 0; i < bias.length; i++) {
            bias[i] = i * 0.7f - 3f;
        }
        for (int variant = 0; variant < 3; variant++) {
            int bStride = variant == 0 ? NR : 40;
            boolean load = variant == 2;
            float[] z = variant == 1 ? bias : null;
            boolean relu = variant == 2;
            float[] got = new float[2 + 2 * MR * ldc];
            for (int i = 0; i < got.length; i++) {
                got[i] = (i % 13 - 6) * 0.5f;
            }
            float[] want = got.clone();
            for (int t = 0; t < 2; t++) {
                GemmMicro.kernel(kc, ap, 2 + t * MR * kc, bp, 3 + t * 16, bStride, want, 2 + t * MR * ldc + 1, ldc,
                        load, z, 1 + t, relu);
            }
            tiles(ap, 2, MR * kc, bp, 3, bStride, 16, got, 3, ldc, MR * ldc, kc, 2, load, z, 1, 1, relu);
            if (!java.util.Arrays.equals(want, got)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code tiles} full tiles through the code: tile {@code t} is
     * {@code GemmMicro.kernel(kc, ap, aOff + t*aStep, b, bOff + t*bStep, bStride, c, cOff + t*cStep, ldc,
     * load, bias, bo + t*biasStep, relu)}, with the same result.
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void tiles(float[] ap, int aOff, int aStep, float[] b, int bOff, int bStride, int bStep, float[] c,
                      int cOff, int ldc, int cStep, int kc, int tiles, boolean load, float[] bias, int bo,
                      int biasStep, boolean relu) {
        tiles(ap, aOff, MR, aStep, b, bOff, bStride, bStep, c, cOff, ldc, cStep, kc, tiles, load, bias, bo, biasStep,
                relu);
    }

    /**
     * {@link #tiles(float[], int, int, float[], int, int, int, float[], int, int, int, int, int, boolean, float[], int, int, boolean)}
     * with A's steps {@code aStride} floats apart ({@code ap[aOff + t*aStep + p*aStride + i]}), as
     * {@code GemmMicro.kernel}'s {@code as}: a k-major A read in place.
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void tiles(float[] ap, int aOff, int aStride, int aStep, float[] b, int bOff, int bStride, int bStep,
                      float[] c, int cOff, int ldc, int cStep, int kc, int tiles, boolean load, float[] bias, int bo,
                      int biasStep, boolean relu) {
        long last = tiles - 1L;
        if (tiles < 1 || kc < 1 || aOff < 0 || aStride < 0 || aStep < 0 || bOff < 0 || bStride < 0 || bStep < 0
                || cOff < 0 || ldc < 0 || cStep < 0 || aOff + last * aStep + (kc - 1L) * aStride + MR > ap.length
                || bOff + last * bStep + (kc - 1L) * bStride + NR > b.length
                || cOff + last * cStep + (MR - 1L) * ldc + NR > c.length
                || bias != null && (bo < 0 || biasStep < 0 || bo + last * biasStep + NR > bias.length)) {
            throw new IllegalArgumentException("GemmJit: tile arguments out of bounds: " + tiles + " tiles of " + kc
                    + " steps, A " + aOff + "+" + aStep + " steps " + aStride + "/" + ap.length + ", B " + bOff + "+"
                    + bStep + " rows " + bStride + "/" + b.length + ", C " + cOff + "+" + cStep + " rows " + ldc + "/"
                    + c.length
                    + (bias == null ? "" : ", bias " + bo + "+" + biasStep + "/" + bias.length));
        }
        long[] args = ARGS.get();
        args[FmaGemmCode.A_OFF] = 4L * aOff;
        args[FmaGemmCode.B_OFF] = 4L * bOff;
        args[FmaGemmCode.C_OFF] = 4L * cOff;
        args[FmaGemmCode.BIAS_OFF] = bias == null ? 0 : 4L * bo;
        args[FmaGemmCode.LDC] = 4L * ldc;
        args[FmaGemmCode.B_STRIDE] = 4L * bStride;
        args[FmaGemmCode.STEPS] = kc;
        args[FmaGemmCode.TILES] = tiles;
        args[FmaGemmCode.A_STEP] = 4L * aStep;
        args[FmaGemmCode.B_STEP] = 4L * bStep;
        args[FmaGemmCode.C_STEP] = 4L * cStep;
        args[FmaGemmCode.BIAS_STEP] = bias == null ? 0 : 4L * biasStep;
        args[FmaGemmCode.LOAD] = load ? 1 : 0;
        args[FmaGemmCode.BIAS] = bias == null ? 0 : 1;
        args[FmaGemmCode.RELU] = relu ? 1 : 0;
        args[FmaGemmCode.A_STRIDE] = 4L * aStride;
        if (aStride == MR) {
            Code.call(ap, b, c, bias == null ? c : bias, args);
        } else {
            StridedCode.call(ap, b, c, bias == null ? c : bias, args);
        }
    }

    /**
     * The installed code for packed A, a constant so that C2 inlines the downcall (see
     * {@code TransposeJit}'s handles), called from a small method of its own (as {@code ConvFewJit}'s).
     */
    private static final class Code {
        static final MethodHandle H = JitCode.function(FmaGemmCode.gemm(MR, false), SIGNATURE,
                Linker.Option.critical(true));

        static void call(float[] ap, float[] b, float[] c, float[] z, long[] args) {
            try {
                H.invokeExact(MemorySegment.ofArray(ap), MemorySegment.ofArray(b), MemorySegment.ofArray(c),
                        MemorySegment.ofArray(z), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }
    }

    /**
     * The code for an A read in place with any step stride, likewise: its own class and call method,
     * so that each call site has one constant handle (two handles picked at one call site kept the
     * segments on the heap in {@code ConvFewJit}), and so that it is made only where it is used.
     */
    private static final class StridedCode {
        static final MethodHandle H = JitCode.function(FmaGemmCode.gemm(MR, true), SIGNATURE,
                Linker.Option.critical(true));

        static void call(float[] ap, float[] b, float[] c, float[] z, long[] args) {
            try {
                H.invokeExact(MemorySegment.ofArray(ap), MemorySegment.ofArray(b), MemorySegment.ofArray(c),
                        MemorySegment.ofArray(z), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }
    }
}
