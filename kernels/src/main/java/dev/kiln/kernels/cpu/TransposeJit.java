package dev.kiln.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.kiln.kernels.cpu.x86.JitCode;
import dev.kiln.kernels.cpu.x86.TransposeCode;
import dev.kiln.kernels.cpu.x86.TransposeCode.Mode;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Float transposes in {@code 16 x 16} register blocks as x86-64 machine code generated at run time
 * ({@link TransposeCode}, installed by {@link JitCode}, called with
 * {@code Linker.Option.critical(true)} so the Java arrays are passed in place). They move values
 * without arithmetic, or add one float to each ({@link Mode#BIAS}, {@link Mode#ADD}) with one
 * rounding, so the results are bit for bit those of the Java transposes followed by the same adds.
 *
 * <p>Why: the convolution kernels' tiles come out with channels along rows and are transposed
 * into NCHW; the Vector API's two-vector {@code rearrange} (two permutes and a blend each, 24 per
 * {@code 8 x 8} block) made those transposes 6% of a VGG layer's forward pass. Measured in the
 * commit that brought this class.
 *
 * <p>Used when {@link #ENABLED}: Linux x86-64 with native access, /proc/cpuinfo listing avx512f,
 * the self check passing, and no {@code -Dkiln.transpose.jit=false}. Every argument is checked in
 * Java first ({@link #transpose}), since a bad address would crash the JVM rather than throw.
 */
final class TransposeJit {
    /** Whether the code can run here. */
    static final boolean SUPPORTED;
    /** Whether the convolution kernels use it by default. */
    static final boolean ENABLED;
    /** Whether they use it now: {@link #ENABLED} unless a test or benchmark turns it off (never on where unsupported). */
    static volatile boolean use;
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    /* Slots of the code: the transpose per Mode (by ordinal), the interleave, the 8 x 8 transpose in both block orders, the strip copy. */
    private static final int INTERLEAVE = 3;
    /** The slot of the 8 x 8 transpose. */
    private static final int EIGHT = INTERLEAVE + 1;
    /** The slot of the 8 x 8 transpose along the rows of blocks. */
    private static final int EIGHT_ROWS = INTERLEAVE + 2;
    /** The slot of the strip copy ({@link TransposeCode#copyStrips}). */
    private static final int COPY = INTERLEAVE + 3;
    /** The slot of the 5-row strip packing ({@link TransposeCode#packRows}). */
    private static final int PACK5 = INTERLEAVE + 4;
    /** The argument block of the transposes and the interleave, per thread, with its segment. */
    private static final ThreadLocal<CallSegments> ARGS = ThreadLocal.withInitial(CallSegments::new);
    /** The segments of {@link #packRows5} (A's packing) and {@link #copyStrips} (B's), per thread. */
    private static final ThreadLocal<CallSegments> PACK5_SEGMENTS = ThreadLocal.withInitial(CallSegments::new);
    private static final ThreadLocal<CallSegments> COPY_SEGMENTS = ThreadLocal.withInitial(CallSegments::new);
    private static final int[] INTERLEAVE_TABLE = TransposeCode.interleaveTable();

    /**
     * Whether the {@code 8 x 8} code ({@link TransposeCode#transpose8}, {@link Mode#WRITE} only) runs
     * here: where the 16 x 16 code does not, on a CPU with AVX ({@code avx} in /proc/cpuinfo),
     * self check passing.
     */
    static final boolean SUPPORTED8;
    /**
     * Whether the {@code 8 x 8} code can run here at all (AVX, self check passing), also where the
     * 16 x 16 code runs: the int transpose ({@link #transpose8(int[], int, int, int[], int, int, int, int)})
     * of the AVX2 int8 GEMM's weight packing uses it wherever this holds.
     */
    static final boolean CAN8;
    /** Whether {@link #leadingBlocks} uses the 8 x 8 code now (as {@link #use} for the 16 x 16 code). */
    static volatile boolean use8;
    /**
     * Whether {@link #copyStrips} can run here (AVX, self check passing, and not turned off with
     * {@code -Dkiln.transpose.jit=false}).
     */
    static final boolean COPY_STRIPS;
    /**
     * Whether {@link #packRows5} can run here (AVX, self check passing, and not turned off with
     * {@code -Dkiln.transpose.jit=false}).
     */
    static final boolean PACK_ROWS5;

    static {
        boolean ok = JitCode.usable(TransposeJit::selfCheck, "avx512f");
        SUPPORTED = ok;
        boolean on = Boolean.parseBoolean(System.getProperty("kiln.transpose.jit", "true"));
        ENABLED = ok && on;
        use = ENABLED;
        CAN8 = JitCode.usable(TransposeJit::selfCheck8, "avx");
        SUPPORTED8 = !ok && CAN8;
        use8 = SUPPORTED8 && on;
        COPY_STRIPS = on && JitCode.usable(TransposeJit::selfCheckCopy, "avx");
        PACK_ROWS5 = on && JitCode.usable(TransposeJit::selfCheckPack5, "avx");
    }

    /** Rows and columns of the blocks {@link #leadingBlocks} transposes now: 16, 8, or 0 (none). */
    static int block() {
        return use ? 16 : use8 ? 8 : 0;
    }

    /**
     * Whether {@link #transpose} should take a transpose with these strides (in floats): it is on,
     * the strides are positive and neither is a multiple of 512 floats. At such a stride the 16
     * rows a block reads (or writes) fall in one or two sets of the 12-way L1 cache: sgemm
     * 64 x 1024 x 1024 and 512^3 with B transposed (rows of 1024 and 512 floats) packed B 2-6%
     * slower this way than through the Vector API's 8-row blocks, while at 784 floats
     * (64 x 300 x 784) it was 6-14% faster.
     */
    static boolean suits(int ld, int dStride) {
        return use && ld > 0 && dStride > 0 && (ld & 511) != 0 && (dStride & 511) != 0;
    }

    /**
     * The part of a {@code rows x cols} transpose ({@link #transpose}'s layout, {@link Mode#WRITE})
     * that whole {@code 16 x 16} blocks cover, {@code (rows & ~15) x (cols & ~15)}, through the code
     * where it {@link #suits} the strides; returns the rows it did (0 when it did nothing), the
     * caller doing the columns past {@code cols & ~15} of those rows and the rows after them.
     */
    static int leadingBlocks(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rows, int cols) {
        return leadingBlocks(false, dst, dOff, dStride, src, sOff, ld, rows, cols);
    }

    /**
     * {@link #leadingBlocks(float[], int, int, float[], int, int, int, int)} with the 8 x 8 code's
     * blocks along the rows when {@code rowsOuter} (see {@link #transpose8(boolean, float[], int, int,
     * float[], int, int, int, int)}; the 16 x 16 code goes down the columns either way).
     */
    static int leadingBlocks(boolean rowsOuter, float[] dst, int dOff, int dStride, float[] src, int sOff, int ld,
                             int rows, int cols) {
        if (use8) {
            if (rows < 8 || cols < 8 || ld <= 0 || dStride <= 0) {
                return 0;
            }
            int r8 = rows & ~7;
            transpose8(rowsOuter, dst, dOff, dStride, src, sOff, ld, r8 / 8, cols / 8);
            return r8;
        }
        if (rows < 16 || cols < 16 || !suits(ld, dStride)) {
            return 0;
        }
        int r16 = rows & ~15;
        transpose(Mode.WRITE, dst, dOff, dStride, src, sOff, ld, r16 / 16, cols / 16, null, 0);
        return r16;
    }

    /** Turns the code on (where {@link #SUPPORTED}) or off; returns whether it was on. Tests and benchmarks only. */
    static boolean use(boolean on) {
        boolean was = use || use8;
        use = on && SUPPORTED;
        use8 = on && SUPPORTED8;
        return was;
    }

    private TransposeJit() {
    }

    /** A 32 x 48 transpose in each mode and an interleave of 8 rows of 32 against plain Java, bit for bit. */
    private static boolean selfCheck() {
        int rows = 32;
        int cols = 48;
        int ld = 50;
        int stride = 35;
        float[] src = new float[rows * ld];
        for (int i = 0; i < src.length; i++) {
            src[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        float[] bias = new float[cols + 1];
        for (int i = 0; i < bias.length; i++) {
            bias[i] = i * 0.7f - 3f;
        }
        for (Mode mode : Mode.values()) {
            float[] got = new float[cols * stride + 3];
            for (int i = 0; i < got.length; i++) {
                got[i] = i * 0.01f;
            }
            float[] want = got.clone();
            transpose(mode, got, 3, stride, src, 2, ld, rows / 16, cols / 16, bias, 1);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    float v = src[2 + r * ld + c];
                    int d = 3 + c * stride + r;
                    want[d] = mode == Mode.WRITE ? v : mode == Mode.BIAS ? v + bias[1 + c] : want[d] + v;
                }
            }
            if (!java.util.Arrays.equals(want, got)) {
                return false;
            }
        }
        float[] got = new float[2 + 32 * 8];
        float[] want = got.clone();
        interleave8(got, 2, src, 1, ld, 2);
        for (int p = 0; p < 32; p++) {
            for (int k = 0; k < 8; k++) {
                want[2 + p * 8 + k] = src[1 + k * ld + p];
            }
        }
        return java.util.Arrays.equals(want, got);
    }

    /** A 24 x 40 transpose through the 8 x 8 code against plain Java, bit for bit, every other float left alone. */
    private static boolean selfCheck8() {
        int rows = 24;
        int cols = 40;
        int ld = 43;
        int stride = 29;
        float[] src = new float[rows * ld + 5];
        for (int i = 0; i < src.length; i++) {
            src[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        float[] got = new float[cols * stride + 7];
        for (int i = 0; i < got.length; i++) {
            got[i] = i * 0.01f;
        }
        float[] want = got.clone();
        transpose8(got, 3, stride, src, 2, ld, rows / 8, cols / 8);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                want[3 + c * stride + r] = src[2 + r * ld + c];
            }
        }
        return java.util.Arrays.equals(want, got);
    }

    /**
     * For {@code r < 8*rowBlocks}, {@code c < 8*colBlocks}:
     * {@code dst[dOff + c*dStride + r] = src[sOff + r*ld + c]} through the 8 x 8 code.
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void transpose8(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rowBlocks,
                           int colBlocks) {
        transpose8(false, dst, dOff, dStride, src, sOff, ld, rowBlocks, colBlocks);
    }

    /**
     * {@link #transpose8(float[], int, int, float[], int, int, int, int)} with the blocks along the
     * rows when {@code rowsOuter} (for a packed strip: a few source rows, the destination's rows
     * close together), else down the columns ({@link TransposeCode#transpose8}).
     */
    static void transpose8(boolean rowsOuter, float[] dst, int dOff, int dStride, float[] src, int sOff, int ld,
                           int rowBlocks, int colBlocks) {
        MemorySegment args = blockArgs(8, dst.length, dOff, dStride, src.length, sOff, ld, rowBlocks, colBlocks,
                null, 0, false);
        MemorySegment d = MemorySegment.ofArray(dst);
        MemorySegment s = MemorySegment.ofArray(src);
        try {
            if (rowsOuter) {
                EightRows.H.invokeExact(d, s, s, args);
            } else {
                Eight.H.invokeExact(d, s, s, args);
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * {@link #transpose8(boolean, float[], int, int, float[], int, int, int, int)} on the 32-bit
     * elements of {@code dst} and {@code src} (the code only moves them; the bounds checked against
     * the segments' sizes): int arrays whose segments the caller makes once for many calls (the
     * AVX2 int8 GEMM's weight widening, a call per panel of B). Made here, C2 inlined the segment
     * factory for ints too rarely to keep them off the heap (8 KB per 64 x 1024 x 1024 product).
     *
     * @throws IllegalArgumentException when an index would fall outside its segment
     */
    static void transpose8(boolean rowsOuter, MemorySegment dst, int dOff, int dStride, MemorySegment src, int sOff,
                           int ld, int rowBlocks, int colBlocks) {
        MemorySegment args = blockArgs(8, (int) Math.min(Integer.MAX_VALUE, dst.byteSize() / 4), dOff, dStride,
                (int) Math.min(Integer.MAX_VALUE, src.byteSize() / 4), sOff, ld, rowBlocks, colBlocks, null, 0, false);
        try {
            if (rowsOuter) {
                EightRows.H.invokeExact(dst, src, src, args);
            } else {
                Eight.H.invokeExact(dst, src, src, args);
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Two strips of three bands from rows 21 floats apart through the copy code against plain Java, every other float left alone. */
    private static boolean selfCheckCopy() {
        int ld = 37;
        int band = TransposeCode.COPY_BAND;
        int stride = 3 * band * 16 + 5;
        float[] src = new float[3 + 3 * band * ld + 40];
        for (int i = 0; i < src.length; i++) {
            src[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        float[] got = new float[2 + 2 * stride];
        for (int i = 0; i < got.length; i++) {
            got[i] = i * 0.01f;
        }
        float[] want = got.clone();
        copyStrips(got, 1, stride, src, 3, ld, 3, 2);
        for (int t = 0; t < 2; t++) {
            for (int p = 0; p < 3 * band; p++) {
                for (int j = 0; j < 16; j++) {
                    want[1 + t * stride + p * 16 + j] = src[3 + p * ld + t * 16 + j];
                }
            }
        }
        return java.util.Arrays.equals(want, got);
    }

    /** Three 5-row strips of 17 columns (two blocks of 8 through the code, the last column by hand) against plain Java. */
    private static boolean selfCheckPack5() {
        int ld = 23;
        int kc = 17;
        int stride = 5 * kc + 2;
        float[] src = new float[2 + 15 * ld];
        for (int i = 0; i < src.length; i++) {
            src[i] = (i * 37 % 101 - 50) * 0.13f;
        }
        float[] got = new float[1 + 3 * stride];
        for (int i = 0; i < got.length; i++) {
            got[i] = i * 0.01f;
        }
        float[] want = got.clone();
        packRows5(got, 1, stride, src, 2, ld, 2, 3);
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 5; i++) {
                got[1 + t * stride + 16 * 5 + i] = src[2 + (5 * t + i) * ld + 16];
                for (int p = 0; p < kc; p++) {
                    want[1 + t * stride + p * 5 + i] = src[2 + (5 * t + i) * ld + p];
                }
            }
        }
        return java.util.Arrays.equals(want, got);
    }

    /**
     * Packs strips of 5 rows column by column ({@link TransposeCode#packRows}): for
     * {@code t < strips}, {@code p < 8*blocks}, {@code i < 5},
     * {@code dst[dOff + t*stripStride + p*5 + i] = src[sOff + (5*t + i)*ld + p]}; it also writes 3
     * floats of no meaning after each strip's column {@code 8*blocks - 1}, so the caller must then
     * pack at least one more column of every strip.
     *
     * @throws IllegalArgumentException when an index would fall outside its array, or a strip would overlap the next
     */
    static void packRows5(float[] dst, int dOff, int stripStride, float[] src, int sOff, int ld, int blocks,
                          int strips) {
        long written = 40L * blocks + 3;
        if (blocks < 1 || strips < 1 || dOff < 0 || sOff < 0 || ld < 8L * blocks || stripStride < written
                || dOff + (strips - 1L) * stripStride + written > dst.length
                || sOff + (5L * strips - 1) * ld + 8L * blocks > src.length) {
            throw new IllegalArgumentException("TransposeJit: 5-row packing arguments out of bounds: " + strips
                    + " strips of " + blocks + " blocks of 8 columns, dst " + dOff + "+" + stripStride + "/"
                    + dst.length + ", src " + sOff + "+" + ld + "/" + src.length);
        }
        CallSegments seg = PACK5_SEGMENTS.get();
        long[] args = seg.args;
        args[0] = 4L * dOff;
        args[1] = 4L * sOff;
        args[2] = 4L * ld;
        args[3] = blocks;
        args[4] = strips;
        args[5] = 4L * stripStride;
        args[6] = 4L * 5 * ld;
        MemorySegment s = seg.sources.of(src);
        try {
            Pack5.H.invokeExact(seg.destinations.of(dst), s, s, seg.argsSegment);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * For {@code t < strips}, {@code p < 8*bands}, {@code j < 16}:
     * {@code dst[dOff + t*stripStride + p*16 + j] = src[sOff + p*ld + t*16 + j]}: rows of 16 floats
     * of an untransposed B into packed strips of 16 columns, a band of 8 rows into every strip in
     * turn ({@link TransposeCode#copyStrips}).
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void copyStrips(float[] dst, int dOff, int stripStride, float[] src, int sOff, int ld, int bands,
                           int strips) {
        long rows = (long) TransposeCode.COPY_BAND * bands;
        if (bands < 1 || strips < 1 || dOff < 0 || sOff < 0 || ld < 0 || stripStride < 0
                || dOff + (strips - 1L) * stripStride + rows * 16 > dst.length
                || sOff + (rows - 1) * ld + 16L * strips > src.length) {
            throw new IllegalArgumentException("TransposeJit: strip copy arguments out of bounds: " + bands
                    + " bands of " + TransposeCode.COPY_BAND + " rows, " + strips + " strips, dst " + dOff + "+"
                    + stripStride + "/" + dst.length + ", src " + sOff + "+" + ld + "/" + src.length);
        }
        CallSegments seg = COPY_SEGMENTS.get();
        long[] args = seg.args;
        args[0] = 4L * dOff;
        args[1] = 4L * sOff;
        args[2] = 4L * ld;
        args[3] = bands;
        args[4] = strips;
        args[5] = 4L * stripStride;
        args[6] = 4L * TransposeCode.COPY_BAND * ld;
        MemorySegment s = seg.sources.of(src);
        try {
            Copy.H.invokeExact(seg.destinations.of(dst), s, s, seg.argsSegment);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * {@code dst[dOff + p*8 + k] = src[sOff + k*ld + p]} for {@code k < 8}, {@code p < 16*blocks}:
     * eight rows interleaved ({@link TransposeCode#interleave8}).
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void interleave8(float[] dst, int dOff, float[] src, int sOff, int ld, int blocks) {
        if (blocks < 1 || dOff < 0 || sOff < 0 || ld < 0 || dOff + 128L * blocks > dst.length
                || sOff + 7L * ld + 16L * blocks > src.length) {
            throw new IllegalArgumentException("TransposeJit: interleave arguments out of bounds: " + blocks
                    + " blocks of 16 positions, dst " + dOff + "/" + dst.length + ", src " + sOff + "+" + ld + "/"
                    + src.length);
        }
        CallSegments seg = ARGS.get();
        long[] args = seg.args;
        args[0] = 4L * dOff;
        args[1] = 4L * sOff;
        args[2] = 4L * ld;
        args[3] = blocks;
        try {
            Interleave.H.invokeExact(MemorySegment.ofArray(dst), MemorySegment.ofArray(src),
                    MemorySegment.ofArray(INTERLEAVE_TABLE), seg.argsSegment);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * For {@code r < 16*rowBlocks}, {@code c < 16*colBlocks}:
     * {@code dst[dOff + c*dStride + r] = src[sOff + r*ld + c]}, plus {@code bias[biasOff + c]}
     * ({@link Mode#BIAS}; {@code bias} is not read otherwise and may be null) or plus what
     * {@code dst} held there ({@link Mode#ADD}).
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    static void transpose(Mode mode, float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rowBlocks,
                          int colBlocks, float[] bias, int biasOff) {
        boolean biased = mode == Mode.BIAS;
        MemorySegment a = blockArgs(16, dst.length, dOff, dStride, src.length, sOff, ld, rowBlocks, colBlocks, bias,
                biasOff, biased);
        MemorySegment d = MemorySegment.ofArray(dst);
        MemorySegment sr = MemorySegment.ofArray(src);
        try {
            switch (mode) {
                case WRITE -> Write.H.invokeExact(d, sr, sr, a);
                case BIAS -> Bias.H.invokeExact(d, sr, MemorySegment.ofArray(bias), a);
                case ADD -> Add.H.invokeExact(d, sr, sr, a);
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * The argument block of a transpose in {@code block x block} blocks ({@link TransposeCode}'s
     * {@code args}), filled in this thread's buffer after checking that every element it touches
     * lies in its array (and the bias, when {@code biased}), as the buffer's segment, made once per
     * thread. A segment made per call, here or next to the downcall, escaped wherever C2 did not
     * inline the factory: 9.8 KB per 64 x 1024 x 1024 product of the AVX2 int8 GEMM when made here,
     * 3.2 KB when made at the int transpose's downcall.
     *
     * @throws IllegalArgumentException when an index would fall outside its array
     */
    private static MemorySegment blockArgs(int block, int dstLength, int dOff, int dStride, int srcLength, int sOff,
                                    int ld, int rowBlocks, int colBlocks, float[] bias, int biasOff, boolean biased) {
        long lastRow = (long) block * rowBlocks - 1;
        long lastCol = (long) block * colBlocks - 1;
        if (rowBlocks < 1 || colBlocks < 1 || dOff < 0 || sOff < 0 || dStride < 0 || ld < 0
                || dOff + lastCol * dStride + lastRow >= dstLength || sOff + lastRow * ld + lastCol >= srcLength
                || biased && (bias == null || biasOff < 0 || biasOff + lastCol >= bias.length)) {
            throw new IllegalArgumentException("TransposeJit: arguments out of bounds: " + rowBlocks + " x " + colBlocks
                    + " blocks" + (block == 16 ? "" : " of " + block) + ", dst " + dOff + "+" + dStride + "/" + dstLength
                    + ", src " + sOff + "+" + ld + "/" + srcLength
                    + (biased ? ", bias " + biasOff + "/" + (bias == null ? "null" : bias.length) : ""));
        }
        CallSegments seg = ARGS.get();
        long[] args = seg.args;
        args[0] = 4L * dOff;
        args[1] = 4L * dStride;
        args[2] = 4L * sOff;
        args[3] = 4L * ld;
        args[4] = rowBlocks;
        args[5] = colBlocks;
        args[6] = biased ? 4L * biasOff : 0;
        return seg.argsSegment;
    }

    /** Installs the code of slot {@code k}. */
    private static MethodHandle build(int k) {
        byte[] code = k == PACK5 ? TransposeCode.packRows(5) : k == COPY ? TransposeCode.copyStrips()
                : k == INTERLEAVE ? TransposeCode.interleave8()
                : k >= EIGHT ? TransposeCode.transpose8(k == EIGHT_ROWS) : TransposeCode.transpose(Mode.values()[k]);
        return JitCode.function(code, SIGNATURE, Linker.Option.critical(true));
    }

    /*
     * The installed code, one constant per slot, built when first called. Constants on purpose:
     * C2 inlines a downcall through a static final handle, and then keeps the heap segments of its
     * arguments off the heap; through a handle read from an array it did not (one call there
     * allocated its four segments: 14 KB a 1024^3 sgemm, 28 KB a sparse Linear product of
     * 1024x1024, batch 64; see SparseCsrJit's Code for the time it can also cost). And each is
     * invoked at its own call site: through one method holding every slot's call (a switch on the
     * slot), which the packing of every shape shared, C2 left some downcalls of the inlined switch
     * out of line once several slots had been used, and their calls allocated again (Zen 1, 1
     * thread, per sgemm call after warm-up: 64x1024x1024 14.2 KB with B untransposed or 14.0 KB
     * transposed depending on the order the shapes ran in, 512^3 1.7 KB; 192 B each with a call
     * site per slot).
     */
    private static final class Write {
        static final MethodHandle H = build(Mode.WRITE.ordinal());
    }

    private static final class Bias {
        static final MethodHandle H = build(Mode.BIAS.ordinal());
    }

    private static final class Add {
        static final MethodHandle H = build(Mode.ADD.ordinal());
    }

    private static final class Interleave {
        static final MethodHandle H = build(INTERLEAVE);
    }

    private static final class Eight {
        static final MethodHandle H = build(EIGHT);
    }

    private static final class EightRows {
        static final MethodHandle H = build(EIGHT_ROWS);
    }

    private static final class Copy {
        static final MethodHandle H = build(COPY);
    }

    /**
     * One thread's argument array for a kind of call, its segment (kept), and the segments of the
     * last source and destination arrays passed ({@link HeapSegments}). A GEMM packs block after
     * block from the same operand into the same buffer, so a segment is made once per operand and
     * GEMM rather than once per block (A and B each have their own, as they alternate). Why: the
     * segments that {@code MemorySegment.ofArray} made for each downcall escaped in C2's
     * compilations of the packing methods (their session objects reached the downcall stub's
     * shared code), 216 B to 8.9 KB per {@code sgemm} of 1024^3 or 2048^3 depending on the
     * process; the cached ones are not allocated at all.
     */
    private static final class CallSegments {
        final long[] args = new long[7];
        final MemorySegment argsSegment = MemorySegment.ofArray(args);
        final HeapSegments sources = new HeapSegments();
        final HeapSegments destinations = new HeapSegments();
    }

    private static final class Pack5 {
        static final MethodHandle H = build(PACK5);
    }

    /** What a downcall threw, as an unchecked exception (the code itself throws nothing). */
    static RuntimeException rethrow(Throwable e) {
        if (e instanceof Error err) {
            throw err;
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
}
