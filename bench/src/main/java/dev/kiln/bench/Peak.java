package dev.kiln.bench;

import dev.kiln.kernels.Simd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's measured fp32 peak: independent FMA chains on vector registers, long enough to
 * hide FMA latency, run on every thread at once. "Percent of peak" in the report divides by this,
 * so it stays honest on any machine.
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

    /** Aggregate fp32 GFLOP/s with {@code threads} threads running the FMA loop together (best of 5). */
    public static double fp32(int threads) {
        long iterations = 20_000_000L;
        for (int w = 0; w < 3; w++) {
            fp32Thread(iterations / 10);
        }
        double best = 0;
        for (int round = 0; round < 5; round++) {
            best = Math.max(best, runParallel(threads, iterations));
        }
        return best;
    }

    private static double runParallel(int threads, long iterations) {
        double[] rates = new double[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                rates[id] = fp32Thread(iterations);
            });
            ts.add(th);
            th.start();
        }
        double sum = 0;
        for (int t = 0; t < threads; t++) {
            try {
                ts.get(t).join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sum += rates[t];
        }
        return sum;
    }
}
