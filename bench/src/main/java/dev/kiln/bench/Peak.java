package dev.kiln.bench;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.cpu.QGemm;
import dev.kiln.kernels.cpu.x86.JitCode;
import dev.kiln.kernels.cpu.x86.X86Asm;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's measured peaks: independent FMA chains on vector registers, long enough to hide
 * FMA latency, run on every thread at once (fp32); and the int8 multiply-accumulate rate reachable
 * from the Vector API (16-bit multiplies of byte pairs with 32-bit accumulation, the scheme of
 * Kiln's Vector API int8 kernel, since C2 emits no VNNI or {@code vpmaddwd} for any Vector API
 * expression), or, where Kiln's int8 GEMM runs its run-time generated {@code vpdpbusd} kernel
 * ({@link QGemm#usesVnni}), the rate of {@code vpdpbusd} itself ({@link #int8Vnni}, generated the
 * same way), and where it runs the AVX2 kernels ({@link QGemm#usesMadd}), the rate of their byte
 * kernel's {@code vpmaddubsw} + {@code vpmaddwd} + {@code vpaddd} ({@link #int8MaddBytes}, the
 * higher: activations in {@code [0, 127]}) beside {@code vpmaddwd} + {@code vpaddd} ({@link
 * #int8Madd}, any activations). "Percent of peak" in the report divides by these, so it stays
 * honest on any machine.
 *
 * <p>{@link #int8AutoVec} measures the one route to VNNI that C2 has: its auto-vectorizer turns
 * {@code out[i] += a[2i]*b[2i] + a[2i+1]*b[2i+1]} over {@code short[]} into {@code vpdpwssd} on
 * AVX512_VNNI (see {@code QGemmKernel} for why a GEMM cannot be built on it).
 */
public final class Peak {
    private static final VectorSpecies<Float> F = Simd.F;

    private Peak() {
    }

    /** GFLOP/s of one thread's FMA loop (best of {@code rounds}). */
    static double fp32Thread(long iterations) {
        FloatVector a0 = FloatVector.broadcast(F, 1.0f);
        FloatVector a1 = FloatVector.broadcast(F, 1.1f);
        FloatVector a2 = FloatVector.broadcast(F, 1.2f);
        FloatVector a3 = FloatVector.broadcast(F, 1.3f);
        FloatVector a4 = FloatVector.broadcast(F, 1.4f);
        FloatVector a5 = FloatVector.broadcast(F, 1.5f);
        FloatVector a6 = FloatVector.broadcast(F, 1.6f);
        FloatVector a7 = FloatVector.broadcast(F, 1.7f);
        FloatVector a8 = FloatVector.broadcast(F, 1.8f);
        FloatVector a9 = FloatVector.broadcast(F, 1.9f);
        FloatVector a10 = FloatVector.broadcast(F, 2.0f);
        FloatVector a11 = FloatVector.broadcast(F, 2.1f);
        FloatVector m = FloatVector.broadcast(F, 0.9999999f);
        FloatVector c = FloatVector.broadcast(F, 1e-7f);
        long t0 = System.nanoTime();
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        long t1 = System.nanoTime();
        float sink = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).reduceLanes(
                jdk.incubator.vector.VectorOperators.ADD);
        if (sink == 42.4242f) {
            System.out.print("");
        }
        return 12.0 * 2 * F.length() * iterations / (t1 - t0);
    }

    /**
     * GOP/s (2 per multiply-accumulate) of one thread's int8 loop: per step and chain, one 16-bit
     * multiply forms two byte products per 32-bit lane ({@code 2 * lanes} multiply-adds) and three
     * integer ops accumulate them, as Kiln's int8 micro-kernel does.
     */
    static double int8Thread(long iterations) {
        VectorSpecies<Integer> ispecies = IntVector.SPECIES_PREFERRED;
        IntVector z = IntVector.zero(ispecies);
        IntVector x0 = z, x1 = z, x2 = z, x3 = z, x4 = z, x5 = z;
        IntVector h0 = z, h1 = z, h2 = z, h3 = z, h4 = z, h5 = z;
        ShortVector a = IntVector.broadcast(ispecies, 0x00fe00fd).reinterpretAsShorts();
        ShortVector b = IntVector.broadcast(ispecies, 0x00f100f3).reinterpretAsShorts();
        ShortVector w0 = IntVector.broadcast(ispecies, 0x00010002).reinterpretAsShorts();
        ShortVector w1 = IntVector.broadcast(ispecies, 0x00030004).reinterpretAsShorts();
        ShortVector w2 = IntVector.broadcast(ispecies, 0x00050006).reinterpretAsShorts();
        long t0 = System.nanoTime();
        for (long i = 0; i < iterations; i++) {
            IntVector t = a.mul(w0).reinterpretAsInts();
            x0 = x0.add(t);
            h0 = h0.add(t.lanewise(VectorOperators.LSHR, 16));
            t = b.mul(w0).reinterpretAsInts();
            x1 = x1.add(t);
            h1 = h1.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a.mul(w1).reinterpretAsInts();
            x2 = x2.add(t);
            h2 = h2.add(t.lanewise(VectorOperators.LSHR, 16));
            t = b.mul(w1).reinterpretAsInts();
            x3 = x3.add(t);
            h3 = h3.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a.mul(w2).reinterpretAsInts();
            x4 = x4.add(t);
            h4 = h4.add(t.lanewise(VectorOperators.LSHR, 16));
            t = b.mul(w2).reinterpretAsInts();
            x5 = x5.add(t);
            h5 = h5.add(t.lanewise(VectorOperators.LSHR, 16));
            a = a.add(b);
        }
        long t1 = System.nanoTime();
        int sink = x0.add(x1).add(x2).add(x3).add(x4).add(x5).sub(h0.add(h1).add(h2).add(h3).add(h4).add(h5))
                .reduceLanes(VectorOperators.ADD);
        if (sink == 42) {
            System.out.print("");
        }
        return 6.0 * 2 * 2 * ispecies.length() * iterations / (t1 - t0);
    }

    /**
     * GOP/s of one thread running C2's auto-vectorized multiply-add idiom ({@code MulAddS2I}, one
     * {@code vpdpwssd} per 32 multiply-adds on AVX512_VNNI, {@code vpmaddwd} + {@code vpaddd}
     * without) over L1-resident arrays: about {@code iterations} vector steps.
     */
    static double int8AutoVecThread(long iterations) {
        int pairs = 1024;
        short[] a = new short[2 * pairs];
        short[] b = new short[2 * pairs];
        int[] acc = new int[pairs];
        for (int i = 0; i < 2 * pairs; i++) {
            a[i] = (short) (i % 255);
            b[i] = (short) (i % 127 - 63);
        }
        long calls = Math.max(1, iterations / (pairs / 16));
        long t0 = System.nanoTime();
        for (long c = 0; c < calls; c++) {
            pairDots(acc, a, b, pairs);
        }
        long t1 = System.nanoTime();
        if (acc[1] == 42) {
            System.out.print("");
        }
        return 4.0 * pairs * calls / (t1 - t0);
    }

    /** The scalar shape C2 rewrites into {@code MulAddS2I} and vectorizes ({@code MulAddVS2VI}). */
    static void pairDots(int[] acc, short[] a, short[] b, int pairs) {
        for (int i = 0; i < pairs; i++) {
            acc[i] += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
    }

    /** Aggregate GOP/s of {@link #int8AutoVecThread} on {@code threads} threads (best of 5). */
    public static double int8AutoVec(int threads) {
        return aggregate(threads, Peak::int8AutoVecThread);
    }

    /** Result of {@link #handOff}: median wall time of the call, the time of one chunk alone, and the overlap. */
    public record HandOff(double callMicros, double chunkMicros, double overlap) {
    }

    private static volatile long handOffSink;

    /** A fixed amount of scalar work (a dependent chain: the same time on any core, not wall time). */
    private static long work(long steps) {
        long x = steps;
        for (long i = 0; i < steps; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }

    /**
     * Whether Kiln's pool really runs {@code threads} chunks side by side here: {@code threads}
     * chunks of fixed work worth about 50 us on one thread go through {@link Parallel#forRange},
     * 200 times with pauses between calls. Overlap 1 means the call took one chunk's time (the
     * chunks ran in parallel), 0 that it took their sum (the OS ran the woken worker on the
     * caller's CPU, as on a VM whose other vCPUs are busy). Short kernels (sparse products,
     * batch-64 Linear layers) can only scale as far as this allows.
     */
    public static HandOff handOff(int threads) {
        for (int w = 0; w < 200; w++) {
            handOffSink += work(20_000);
        }
        long steps = 1000;
        long chunk = 0;
        while (chunk < 50_000 && steps < 1L << 30) {
            steps *= 2;
            chunk = bestOf(steps);
        }
        long chunkSteps = steps;
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            // The chunk alone is timed between the calls, in the same compiled state as the calls'
            // chunks (timed once before them, a not yet fully compiled chain read 88 us against
            // 17 us for a whole call of two chunks).
            long[] wall = new long[200];
            long[] alone = new long[wall.length];
            for (int i = 0; i < wall.length; i++) {
                long t0 = System.nanoTime();
                Parallel.forRange(threads, 1, (lo, hi) -> handOffSink += work(chunkSteps * (hi - lo)));
                long t1 = System.nanoTime();
                handOffSink += work(chunkSteps);
                alone[i] = System.nanoTime() - t1;
                wall[i] = t1 - t0;
            }
            Arrays.sort(wall);
            Arrays.sort(alone);
            double median = wall[wall.length / 2];
            double oneChunk = alone[alone.length / 2];
            double serial = threads * oneChunk;
            double overlap = threads == 1 ? 1 : Math.clamp((serial - median) / (serial - oneChunk), 0.0, 1.0);
            return new HandOff(median / 1e3, oneChunk / 1e3, overlap);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    private static long bestOf(long steps) {
        long best = Long.MAX_VALUE;
        for (int r = 0; r < 5; r++) {
            long t0 = System.nanoTime();
            handOffSink += work(steps);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best;
    }

    private static MethodHandle vnniLoop;

    /**
     * GOP/s of one thread's {@code vpdpbusd} loop: 24 independent zmm accumulator chains, 64
     * multiply-adds each per step, run as machine code generated at run time ({@link JitCode}).
     */
    static double vnniThread(long iterations) {
        return timed(vnniLoop(), iterations, 24.0 * 64 * 2);
    }

    /** Ops per ns (GOP/s) of a generated loop {@code void f(long steps)} run for {@code iterations / 2} steps. */
    private static double timed(MethodHandle loop, long iterations, double opsPerStep) {
        long steps = Math.max(1, iterations / 2);
        try {
            long t0 = System.nanoTime();
            loop.invokeExact(steps);
            long t1 = System.nanoTime();
            return opsPerStep * steps / (t1 - t0);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static synchronized MethodHandle vnniLoop() {
        if (vnniLoop == null) {
            vnniLoop = countedLoop(a -> {
                for (int z = 0; z < 26; z++) {
                    a.vpxord(z, z, z);
                }
            }, a -> {
                for (int z = 0; z < 24; z++) {
                    a.vpdpbusd(z, 24, 25);
                }
            });
        }
        return vnniLoop;
    }

    private static MethodHandle maddLoop;

    /**
     * GOP/s of one thread's {@code vpmaddwd} + {@code vpaddd} loop (ymm, AVX2): 10 independent
     * accumulator chains, 16 multiply-adds per {@code vpmaddwd}, operands in registers, the products
     * in 2 more registers, run as machine code generated at run time ({@link JitCode}): the
     * instruction pair of Kiln's AVX2 16-bit int8 kernel, with nothing else in the loop.
     */
    static double maddThread(long iterations) {
        return timed(maddLoop(), iterations, 10.0 * 16 * 2);
    }

    private static synchronized MethodHandle maddLoop() {
        if (maddLoop == null) {
            maddLoop = tenChains((a, y) -> a.vpmaddwdYY(14 + (y & 1), 12, 13));
        }
        return maddLoop;
    }

    /**
     * A function {@code f(iterations)} looping {@code step} over 10 accumulator chains
     * ({@code ymm0-9}; the step writes its product into {@code ymm14} or {@code ymm15}, alternating
     * with the chain, which {@code vpaddd} then adds into the chain's accumulator), every register
     * zeroed first.
     */
    private static MethodHandle tenChains(java.util.function.ObjIntConsumer<X86Asm> step) {
        return countedLoop(a -> {
            for (int y = 0; y < 16; y++) {
                a.vpxorY(y, y, y);
            }
        }, a -> {
            for (int y = 0; y < 10; y++) {
                step.accept(a, y);
                a.vpadddY(y, y, 14 + (y & 1));
            }
        });
    }

    /** A function {@code f(iterations)}: {@code setup}, then {@code body} that many times (counted in {@code rdi}). */
    private static MethodHandle countedLoop(java.util.function.Consumer<X86Asm> setup,
                                            java.util.function.Consumer<X86Asm> body) {
        X86Asm a = new X86Asm();
        setup.accept(a);
        X86Asm.Label top = new X86Asm.Label();
        a.bind(top);
        body.accept(a);
        a.dec(X86Asm.RDI);
        a.jnz(top);
        a.vzeroupper();
        a.ret();
        return JitCode.function(a.bytes(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));
    }

    /**
     * Aggregate GOP/s of {@link #maddThread} on {@code threads} threads (best of 5); NaN where
     * Kiln's int8 GEMM does not run its AVX2 {@code vpmaddwd} kernel.
     */
    public static double int8Madd(int threads) {
        return QGemm.usesMadd() ? aggregate(threads, Peak::maddThread) : Double.NaN;
    }

    private static MethodHandle maddBytesLoop;

    /**
     * GOP/s of one thread's loop of the AVX2 byte kernel's three instructions ({@code vpmaddubsw},
     * {@code vpmaddwd} by ones, {@code vpaddd}; ymm): 10 independent accumulator chains, 32
     * multiply-adds per {@code vpmaddubsw}, operands in registers, products alternating between two
     * more. The kernel Kiln's int8 GEMM runs for activations in {@code [0, 127]}.
     */
    static double maddBytesThread(long iterations) {
        return timed(maddBytesLoop(), iterations, 10.0 * 32 * 2);
    }

    private static synchronized MethodHandle maddBytesLoop() {
        if (maddBytesLoop == null) {
            maddBytesLoop = tenChains((a, y) -> {
                int t = 14 + (y & 1);
                a.vpmaddubswYY(t, 10, 11);
                a.vpmaddwdYY(t, t, 12);
            });
        }
        return maddBytesLoop;
    }

    /**
     * Aggregate GOP/s of {@link #maddBytesThread} on {@code threads} threads (best of 5); NaN where
     * Kiln's int8 GEMM does not run its AVX2 kernels.
     */
    public static double int8MaddBytes(int threads) {
        return QGemm.usesMadd() ? aggregate(threads, Peak::maddBytesThread) : Double.NaN;
    }

    /**
     * Aggregate GOP/s of {@link #vnniThread} on {@code threads} threads (best of 5); NaN where
     * Kiln's int8 GEMM does not run its {@code vpdpbusd} kernel.
     */
    public static double int8Vnni(int threads) {
        return QGemm.usesVnni() ? aggregate(threads, Peak::vnniThread) : Double.NaN;
    }

    /** Aggregate int8 GOP/s with {@code threads} threads running {@link #int8Thread} together (best of 5). */
    public static double int8(int threads) {
        return aggregate(threads, Peak::int8Thread);
    }

    /** Aggregate fp32 GFLOP/s with {@code threads} threads running the FMA loop together (best of 5). */
    public static double fp32(int threads) {
        return aggregate(threads, Peak::fp32Thread);
    }

    private static final java.util.Map<String, Double> STREAM = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * GB/s of a plain streaming pass over {@code bytes} bytes of arrays: {@code a += s*b} (Vector
     * API; each element of {@code b} read, of {@code a} read and written in place, so 12 bytes per
     * element and no write-allocate reads) over two float arrays of {@code bytes/2} bytes each,
     * split across {@code threads} threads, each on cache lines of its own (the best of 5 rounds of at least 0.2 s each, after 3
     * more to warm up; remembered per size and thread count within the process). The reference for the report's memory-bound
     * cases: arrays of the case's footprint, so that its data and this pass's sit in the same level
     * of the cache hierarchy.
     */
    public static double stream(int threads, double bytes) {
        int n = (int) Math.max(3L * F.length() * threads, Math.min(Integer.MAX_VALUE / 2, (long) (bytes / 8)));
        return STREAM.computeIfAbsent(threads + "/" + n, key -> {
            int chunk = (n + threads - 1) / threads;
            // each thread's range starts 16 floats (a 64-byte line) or more past the previous one's
            // end, so that no two threads write one cache line: for a footprint of a few lines, two
            // threads sharing one ran many times slower side by side than the short first tries
            // (where one had finished before the other started) promised
            int stride = (chunk + 15) / 16 * 16 + 16;
            float[] a = new float[threads * stride];
            float[] b = new float[threads * stride];
            java.util.Arrays.fill(b, 1e-6f);
            // one pass first, so that every page is touched and the loop compiled
            axpy(a, b, 0, a.length);
            double best = 0;
            for (int round = 0; round < 8; round++) {
                long passes = 1;
                while (true) {
                    long p = passes;
                    double seconds = runParallelSeconds(threads, t -> {
                        int lo = t * stride;
                        int hi = lo + Math.min(chunk, n - t * chunk);
                        for (long i = 0; i < p; i++) {
                            axpy(a, b, lo, hi);
                        }
                    });
                    if (seconds >= 0.2 || passes > 1L << 40) {
                        if (round >= 3) {
                            best = Math.max(best, 12.0 * n * passes / seconds * 1e-9);
                        }
                        break;
                    }
                    // at most 16 times as many passes as the last try: a try dominated by starting the
                    // threads says little about a pass
                    passes = Math.min(passes * 16,
                            Math.max(passes * 2, (long) (passes * 0.2 / Math.max(seconds, 1e-6) * 1.2)));
                }
            }
            return best;
        });
    }

    private static void axpy(float[] a, float[] b, int lo, int hi) {
        int i = lo;
        for (int ub = lo + F.loopBound(hi - lo); i < ub; i += F.length()) {
            FloatVector.fromArray(F, b, i).mul(0.5f).add(FloatVector.fromArray(F, a, i)).intoArray(a, i);
        }
        for (; i < hi; i++) {
            a[i] = b[i] * 0.5f + a[i];
        }
    }

    /**
     * Wall seconds of {@code body(t)} for {@code t < threads}, each on a thread of its own (they
     * inherit the caller's CPU affinity), released together.
     */
    private static double runParallelSeconds(int threads, java.util.function.IntConsumer body) {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                body.accept(id);
            });
            ts.add(th);
            th.start();
        }
        long t0;
        try {
            start.await();
            t0 = System.nanoTime();
            for (Thread th : ts) {
                th.join();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return (System.nanoTime() - t0) * 1e-9;
    }

    private static double aggregate(int threads, java.util.function.LongToDoubleFunction loop) {
        long iterations = 20_000_000L;
        for (int w = 0; w < 3; w++) {
            loop.applyAsDouble(iterations / 10);
        }
        double best = 0;
        for (int round = 0; round < 5; round++) {
            best = Math.max(best, runParallel(threads, iterations, loop));
        }
        return best;
    }

    private static double runParallel(int threads, long iterations, java.util.function.LongToDoubleFunction loop) {
        double[] rates = new double[threads];
        runParallelSeconds(threads, t -> rates[t] = loop.applyAsDouble(iterations));
        double sum = 0;
        for (double r : rates) {
            sum += r;
        }
        return sum;
    }
}
