package dev.kiln.cli;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.loss.Losses;
import dev.kiln.nn.optim.Optimizer;
import dev.kiln.nn.optim.SGD;

/**
 * Kiln's side of {@code kiln compare-torch}: SGD training steps (zero-grad, forward,
 * cross-entropy, backward, step) of one model on one fixed synthetic batch of 28x28 images.
 */
final class KilnThroughput {
    private final Module model;
    private final Optimizer optimizer;
    private final Tensor x;
    private final Tensor y;
    private final int batch;

    KilnThroughput(ModelKind kind, int batch, double lr, double momentum, long seed) {
        Generator g = new Generator(seed);
        this.model = kind.create(g);
        this.optimizer = new SGD(model.parameters(), lr, momentum, 0.0, false);
        this.x = Tensors.randn(g, batch, 1, 28, 28);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = g.nextInt(10);
        }
        this.y = Tensors.of(labels, batch);
        this.batch = batch;
    }

    /**
     * Trains in blocks of {@code block} steps until three blocks in a row agree within 5% (after at
     * least 3 s) or {@code maxSeconds} have passed: Kiln's kernels only reach their speed once C2
     * has compiled them. Returns {seconds spent, steps run, 1 if the rate settled else 0}.
     */
    double[] warmUp(int block, double maxSeconds) {
        double[] recent = new double[3];
        long t0 = System.nanoTime();
        long steps = 0;
        for (int b = 0; ; b++) {
            long s0 = System.nanoTime();
            for (int i = 0; i < block; i++) {
                step();
            }
            steps += block;
            long now = System.nanoTime();
            recent[b % 3] = (now - s0) / (double) block;
            double spent = (now - t0) / 1e9;
            boolean settled = b >= 2 && spent >= 3 && max(recent) <= min(recent) * 1.05;
            if (settled || spent >= maxSeconds) {
                return new double[] {spent, steps, settled ? 1 : 0};
            }
        }
    }

    private static double max(double[] v) {
        return Math.max(v[0], Math.max(v[1], v[2]));
    }

    private static double min(double[] v) {
        return Math.min(v[0], Math.min(v[1], v[2]));
    }

    /** Runs {@code warmup} untimed steps, then {@code iterations} timed ones; returns images per second. */
    double measure(int warmup, int iterations) {
        for (int i = 0; i < warmup; i++) {
            step();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            step();
        }
        return (double) iterations * batch / ((System.nanoTime() - t0) / 1e9);
    }

    private void step() {
        optimizer.zeroGrad();
        Losses.crossEntropy(model.forward(x), y).backward();
        optimizer.step();
    }
}
