package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefGemm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link GemmSharedB}'s schedule with tiny panels and row blocks (two strips by 16 deep, two MR
 * strips), so that ordinary shapes cross dozens of panels, buffer reuses and KC-slice waits: on 2,
 * 3 and 4 threads (more than this machine's cores, so threads lose their core mid-panel) every
 * result keeps the bits of 1 thread and matches the reference. A wait that is never satisfied
 * (as a row block's done count lowered by a late thread once was) fails it after the time-out
 * instead of hanging the build; it takes 1-2 s.
 */
class GemmSharedBTest {
    private static final int NC = 2 * GemmMicro.NR;
    private static final int KC = 16;
    private static final int MC = 2 * GemmMicro.MR;

    private final SplittableRandom rnd = new SplittableRandom(11);

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void manyPanelsKeepTheBitsOfOneThread() {
        int saved = Parallel.threads();
        GemmSharedB.LOCK.lock();
        try {
            for (int shape = 0; shape < 40; shape++) {
                int m = 1 + rnd.nextInt(120);
                int n = 1 + rnd.nextInt(3 * NC + 9);
                int k = 1 + rnd.nextInt(5 * KC + 3);
                boolean acc = rnd.nextBoolean();
                boolean tA = rnd.nextBoolean();
                boolean tB = rnd.nextBoolean();
                boolean relu = rnd.nextBoolean();
                float[] a = TestArrays.randomFloats(rnd, m * k);
                float[] b = TestArrays.randomFloats(rnd, k * n);
                float[] bias = shape % 3 == 0 ? null : TestArrays.randomFloats(rnd, n);
                float[] start = TestArrays.randomFloats(rnd, m * n);
                String what = "m=" + m + " n=" + n + " k=" + k + " acc=" + acc + " tA=" + tA + " tB=" + tB
                        + " bias=" + (bias != null) + " relu=" + relu;
                float[] one = start.clone();
                Parallel.setThreads(1);
                run(1, acc, one, tA, a, tB, b, bias, relu, m, n, k);
                if (bias == null && !relu) {
                    double[] ref = TestArrays.toDouble(start);
                    RefGemm.dgemm(acc, ref, 0, n, tA, TestArrays.toDouble(a), 0, tA ? m : k, tB, TestArrays.toDouble(b),
                            0, tB ? k : n, m, n, k);
                    TestArrays.assertClose(what, one, ref, 1e-4 * Math.sqrt(k), 1e-4);
                }
                for (int t = 2; t <= 4; t++) {
                    Parallel.setThreads(t);
                    for (int rep = 0; rep < 3; rep++) {
                        float[] many = start.clone();
                        run(t, acc, many, tA, a, tB, b, bias, relu, m, n, k);
                        assertArrayEquals(one, many, t + " threads vs 1: " + what);
                    }
                }
            }
        } finally {
            GemmSharedB.LOCK.unlock();
            Parallel.setThreads(saved);
        }
    }

    private static void run(int threads, boolean acc, float[] c, boolean tA, float[] a, boolean tB, float[] b,
                            float[] bias, boolean relu, int m, int n, int k) {
        GemmSharedB.gemm(NC, KC, MC, threads, acc, c, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, bias, 0, relu,
                m, n, k);
    }
}
