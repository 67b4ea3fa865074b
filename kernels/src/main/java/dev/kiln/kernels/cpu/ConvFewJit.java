package dev.kiln.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.kiln.kernels.Simd;
import dev.kiln.kernels.cpu.x86.FmaConvCode;
import dev.kiln.kernels.cpu.x86.JitCode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@link ConvFew}'s tiles as x86-64 machine code generated at run time ({@link FmaConvCode}) on
 * AVX2 + FMA machines with 16 vector registers: all the output channels of a group (up to 6) in
 * one tile, a run of tiles (a whole image) per call, the same float operations as the Vector API
 * tiles in the same order, so the same bits.
 *
 * <p>Why: C2's code for the Vector API tiles of 3 rows x 3 vectors ran LeNet-5's first layer
 * (1 -> 6 at 28x28, 5x5, padding 2) at 10 GFLOP/s on Zen 1, a quarter of the FMA peak, in two
 * blocks of 3 rows that each reload the input. Measured figures: see {@link ConvFew}.
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing avx2 and
 * fma, 16 vector registers of 8 floats, the self check passing, and no
 * {@code -Dkiln.conv.few.jit=false}. Every argument is checked in Java first ({@link #tiles}),
 * since a bad address would crash the JVM rather than throw.
 */
final class ConvFewJit {
    /** Whether the code can run here. */
    static final boolean SUPPORTED;
    /** Whether {@link ConvFew} uses it by default. */
    static final boolean ENABLED;
    /** Whether it uses it now: {@link #ENABLED} unless a test or benchmark turns it off (never on where unsupported). */
    static volatile boolean use;
    private static final ThreadLocal<long[]> ARGS = ThreadLocal.withInitial(() -> new long[FmaConvCode.ARGS]);

    static {
        boolean ok = Simd.REGISTERS == 16 && Simd.F.length() == 8
                && JitCode.usable(ConvFewJit::selfCheck, "avx2", "fma");
        SUPPORTED = ok;
        ENABLED = ok && Boolean.parseBoolean(System.getProperty("kiln.conv.few.jit", "true"));
        use = ENABLED;
    }

    private ConvFewJit() {
    }

    /** Turns the code on (where {@link #SUPPORTED}) or off; returns whether it was on. Tests and benchmarks only. */
    static boolean use(boolean on) {
        boolean was = use;
        use = on && SUPPORTED;
        return was;
    }

    /** Positions per tile for {@code rows} rows: {@link FmaConvCode#vectors} vectors of 8. */
    static int span(int rows) {
        return 8 * FmaConvCode.vectors(rows);
    }

    /**
     * {@code tiles} tiles of {@code rows x span(rows)}: for tile {@code i}, row {@code r < rows},
     * position {@code j < span(rows)}, {@code out[outOff + i*outStep + r*ld + j] = sum over t < steps
     * of x[xOff + i*xStep + tap[t] + j] * w[wOff + t*rows + r]}, one FMA chain in the order of
     * {@code t} from +0.
     *
     * @throws IllegalArgumentException when a count is not positive or an index would fall outside its array
     */
    static void tiles(int rows, float[] w, int wOff, float[] x, int xOff, int xStep, float[] out, int outOff,
                      int outStep, int ld, int[] tap, int steps, int tiles) {
        if (rows < 1 || rows > FmaConvCode.MAX_ROWS || steps < 1 || tiles < 1 || steps > tap.length) {
            throw new IllegalArgumentException("ConvFewJit: expected 1-" + FmaConvCode.MAX_ROWS + " rows, steps in [1, "
                    + tap.length + "] and tiles >= 1, got " + rows + " rows, " + steps + " steps, " + tiles + " tiles");
        }
        int lo = Integer.MAX_VALUE;
        int hi = Integer.MIN_VALUE;
        for (int t = 0; t < steps; t++) {
            lo = Math.min(lo, tap[t]);
            hi = Math.max(hi, tap[t]);
        }
        long last = tiles - 1L;
        int span = span(rows);
        if (lo < 0 || wOff < 0 || xOff < 0 || xStep < 0 || outOff < 0 || outStep < 0 || ld < 0
                || wOff + (long) rows * steps > w.length
                || xOff + last * xStep + hi + span > x.length
                || outOff + last * outStep + (rows - 1L) * ld + span > out.length) {
            throw new IllegalArgumentException("ConvFewJit: tile arguments out of bounds: " + tiles + " tiles of " + rows
                    + " x " + span + ", " + steps + " taps in [" + lo + ", " + hi + "], w " + wOff + "/" + w.length + ", x "
                    + xOff + "+" + xStep + "/" + x.length + ", out " + outOff + "+" + outStep + " rows " + ld + "/"
                    + out.length);
        }
        long[] args = ARGS.get();
        args[FmaConvCode.W_OFF] = 4L * wOff;
        args[FmaConvCode.X_OFF] = 4L * xOff;
        args[FmaConvCode.X_STEP] = 4L * xStep;
        args[FmaConvCode.OUT_OFF] = 4L * outOff;
        args[FmaConvCode.OUT_STEP] = 4L * outStep;
        args[FmaConvCode.LD] = 4L * ld;
        args[FmaConvCode.STEPS] = steps;
        args[FmaConvCode.TILES] = tiles;
        // one call site per code, each a constant handle in a small method of its own, where C2 inlines
        // the downcall and keeps the argument segments off the heap (in one method with a six-way
        // switch it did not: 168 B per call)
        switch (rows) {
            case 1 -> Code.call1(w, x, out, tap, args);
            case 2 -> Code.call2(w, x, out, tap, args);
            case 3 -> Code.call3(w, x, out, tap, args);
            case 4 -> Code.call4(w, x, out, tap, args);
            case 5 -> Code.call5(w, x, out, tap, args);
            default -> Code.call6(w, x, out, tap, args);
        }
    }

    /**
     * Every row count against plain {@link Math#fma} chains, two tiles with irregular taps, offsets
     * and strides, bit for bit, and nothing else written.
     */
    private static boolean selfCheck() {
        int steps = 7;
        int[] tap = {0, 1, 5, 2, 19, 33, 8};
        float[] x = new float[3 + 11 + 33 + 48 + 1];
        float[] w = new float[2 + 6 * steps];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (i * 53 % 97 - 48) * 0.07f;
        }
        for (int rows = 1; rows <= FmaConvCode.MAX_ROWS; rows++) {
            int span = span(rows);
            int ld = span + 3;
            int outStep = rows * ld + 1;
            float[] got = new float[1 + 2 * outStep + 2];
            for (int i = 0; i < got.length; i++) {
                got[i] = (i % 13 - 6) * 0.5f;
            }
            float[] want = got.clone();
            for (int i = 0; i < 2; i++) {
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < span; j++) {
                        float acc = 0f;
                        for (int t = 0; t < steps; t++) {
                            acc = Math.fma(x[3 + i * 11 + tap[t] + j], w[2 + t * rows + r], acc);
                        }
                        want[1 + i * outStep + r * ld + j] = acc;
                    }
                }
            }
            tiles(rows, w, 2, x, 3, 11, got, 1, outStep, ld, tap, steps, 2);
            if (!java.util.Arrays.equals(want, got)) {
                return false;
            }
        }
        return true;
    }

    /** The installed code, one constant per row count (see {@code TransposeJit}'s handles). */
    private static final class Code {
        static final MethodHandle H1 = install(1);
        static final MethodHandle H2 = install(2);
        static final MethodHandle H3 = install(3);
        static final MethodHandle H4 = install(4);
        static final MethodHandle H5 = install(5);
        static final MethodHandle H6 = install(6);

        private static MethodHandle install(int rows) {
            return JitCode.function(FmaConvCode.tiles(rows),
                    FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS), Linker.Option.critical(true));
        }

        static void call1(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H1.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }

        static void call2(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H2.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }

        static void call3(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H3.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }

        static void call4(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H4.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }

        static void call5(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H5.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }

        static void call6(float[] w, float[] x, float[] out, int[] tap, long[] args) {
            try {
                H6.invokeExact(MemorySegment.ofArray(w), MemorySegment.ofArray(x), MemorySegment.ofArray(out),
                        MemorySegment.ofArray(tap), MemorySegment.ofArray(args));
            } catch (Throwable e) {
                throw TransposeJit.rethrow(e);
            }
        }
    }
}
