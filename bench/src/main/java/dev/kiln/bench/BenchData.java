package dev.kiln.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded random inputs for benchmarks, and the pruning of the sparse cases. */
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

    /** The magnitude below which a fraction {@code sparsity} of {@code w} lies. */
    public static float magnitudeThreshold(float[] w, double sparsity) {
        float[] m = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            m[i] = Math.abs(w[i]);
        }
        Arrays.sort(m);
        return m[(int) Math.min(m.length - 1, Math.round(sparsity * m.length) - 1)];
    }

    /** {@code w} with the {@code sparsity} fraction of its {@code br x 1} blocks of smallest L1 norm zeroed. */
    public static float[] blockPruned(float[] w, int rows, int cols, int br, double sparsity) {
        int blocks = rows / br * cols;
        float[] norm = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int r0 = b / cols * br;
            int c = b % cols;
            for (int r = r0; r < r0 + br; r++) {
                norm[b] += Math.abs(w[r * cols + c]);
            }
        }
        float[] sorted = norm.clone();
        Arrays.sort(sorted);
        float cut = sorted[(int) Math.min(blocks - 1, Math.round(sparsity * blocks) - 1)];
        float[] out = w.clone();
        for (int b = 0; b < blocks; b++) {
            if (norm[b] <= cut) {
                int r0 = b / cols * br;
                int c = b % cols;
                for (int r = r0; r < r0 + br; r++) {
                    out[r * cols + c] = 0f;
                }
            }
        }
        return out;
    }
}
