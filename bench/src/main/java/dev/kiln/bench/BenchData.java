package dev.kiln.bench;

import java.util.SplittableRandom;

/** Seeded random inputs for benchmarks. */
public final class BenchData {
    private BenchData() {
    }

    /** {@code n} floats uniform in [-1, 1) from {@code seed}. */
    public static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }
}
