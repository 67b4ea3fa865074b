package dev.kiln.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Generator;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.Module;
import dev.kiln.nn.data.DataLoader;
import dev.kiln.nn.data.InMemoryDataset;
import dev.kiln.nn.io.Checkpoint;
import dev.kiln.nn.layers.Dropout;
import dev.kiln.nn.layers.Linear;
import dev.kiln.nn.layers.ReLU;
import dev.kiln.nn.layers.Sequential;
import dev.kiln.nn.optim.SGD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private static final double[][] CENTERS = {{0, 3}, {3, -2}, {-3, -2}};

    @TempDir
    Path dir;

    /** Three Gaussian blobs in the plane (std 0.7, centres 3.6 or more apart): separable almost surely. */
    static InMemoryDataset blobs(int n, long seed) {
        Generator g = new Generator(seed);
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            y[i] = c;
            x[2 * i] = (float) (CENTERS[c][0] + 0.7 * g.nextGaussian());
            x[2 * i + 1] = (float) (CENTERS[c][1] + 0.7 * g.nextGaussian());
        }
        return new InMemoryDataset(x, new int[] {2}, y);
    }

    static DataLoader loader(InMemoryDataset d, boolean shuffle, long seed) {
        return DataLoader.builder(d).batchSize(32).shuffle(shuffle).seed(seed).build();
    }

    static Module net(long seed) {
        Generator g = new Generator(seed);
        return new Sequential(new Linear(2, 16, g), new ReLU(), new Linear(16, 3, g));
    }

    static Trainer.Builder sgd(double lr) {
        return Trainer.builder().quiet().optimizer(params -> new SGD(params, lr, 0.9, 0.0, false));
    }

    @Test
    void learnsSeparableBlobsInAFewEpochs() {
        History h = sgd(0.05).epochs(4).build().fit(net(1), loader(blobs(300, 2), true, 3), loader(blobs(90, 4), false, 0));
        assertEquals(4, h.epochs().size());
        assertTrue(h.last().testAccuracy() >= 0.97, "test accuracy " + h.last().testAccuracy());
        assertTrue(h.last().trainLoss() < h.epochs().getFirst().trainLoss() / 2, java.util.Arrays.toString(h.trainLosses()));
        assertTrue(h.last().imagesPerSecond() > 0 && h.last().seconds() > 0);
        assertEquals(0.05, h.last().lr());
        assertTrue(h.bestEpoch() >= 1 && h.bestEpoch() <= 4, "a test loader makes a best epoch: " + h.bestEpoch());
    }

    private static List<Double> batchLosses(long loaderSeed) {
        List<Double> losses = new ArrayList<>();
        sgd(0.05).epochs(2).onBatch((e, b, l) -> losses.add(l)).build()
                .fit(net(7), loader(blobs(200, 8), true, loaderSeed), null);
        return losses;
    }

    @Test
    void sameSeedsGiveTheSameLossCurveBitForBit() {
        List<Double> a = batchLosses(11);
        assertEquals(2 * 7, a.size(), "200 samples in batches of 32: 7 per epoch");
        assertEquals(a, batchLosses(11));
        assertFalse(a.equals(batchLosses(12)), "another shuffle seed changes the curve (so the check can fail)");
    }

    @Test
    void earlyStoppingStopsAfterPatienceEpochsWithoutImprovement() {
        History h = sgd(0.0).epochs(10).earlyStopping(2, Monitor.TEST_ACCURACY).build()
                .fit(net(1), loader(blobs(60, 2), false, 0), loader(blobs(30, 4), false, 0));
        assertEquals(3, h.epochs().size(), "epoch 1 sets the best, epochs 2 and 3 do not improve on it");
        assertTrue(h.stoppedEarly());
        assertEquals(1, h.bestEpoch());
        History full = sgd(0.05).epochs(2).earlyStopping(5, Monitor.TEST_LOSS).build()
                .fit(net(1), loader(blobs(60, 2), false, 0), loader(blobs(30, 4), false, 0));
        assertFalse(full.stoppedEarly());
        assertEquals(2, full.epochs().size());
    }

    @Test
    void bestCheckpointHoldsTheBestEpochsWeightsAndLoads() {
        Path ckpt = dir.resolve("best/model.safetensors");
        DataLoader test = loader(blobs(90, 4), false, 0);
        Trainer t = sgd(0.2).epochs(4).monitor(Monitor.TEST_LOSS).bestCheckpoint(ckpt).build();
        History h = t.fit(net(1), loader(blobs(120, 2), true, 3), test);
        assertTrue(Files.isRegularFile(ckpt));
        EpochRecord best = h.epochs().get(h.bestEpoch() - 1);
        for (EpochRecord r : h.epochs()) {
            assertTrue(best.testLoss() <= r.testLoss(), "best epoch " + best + " vs " + r);
        }
        Module fresh = net(99);
        LoadReport report = Checkpoint.load(fresh, ckpt, true);
        assertTrue(report.isComplete(), report.toString());
        Evaluation e = t.evaluate(fresh, test);
        assertEquals(best.testLoss(), e.loss(), "the reloaded model reproduces the best epoch's test loss exactly");
        assertEquals(best.testAccuracy(), e.accuracy());
    }

    @Test
    void metricsLogHasOneObjectPerEpochWithTheFields() throws Exception {
        Path log = dir.resolve("metrics.jsonl");
        History h = sgd(0.05).epochs(3).metricsLog(log).build()
                .fit(net(1), loader(blobs(60, 2), true, 3), loader(blobs(30, 4), false, 0));
        List<String> lines = Files.readAllLines(log);
        assertEquals(3, lines.size());
        for (int i = 0; i < 3; i++) {
            String l = lines.get(i);
            assertTrue(l.matches("\\{\"epoch\": " + (i + 1) + ", \"train_loss\": [-0-9.E]+, \"train_acc\": [0-9.E-]+, "
                    + "\"test_loss\": [0-9.E-]+, \"test_acc\": [0-9.E-]+, \"lr\": [0-9.E-]+, \"seconds\": [0-9.E-]+, "
                    + "\"images_per_second\": [0-9.E-]+}"), l);
        }
        assertEquals(h.epochs(), MetricsLog.read(log));
    }

    @Test
    void evaluateUsesEvalModeWithoutGradientsAndRestoresTheMode() {
        Generator g = new Generator(5);
        Module m = new Sequential(new Linear(2, 16, g), new Dropout(0.5, g), new ReLU(), new Linear(16, 3, g));
        DataLoader test = loader(blobs(60, 4), false, 0);
        Trainer t = sgd(0.05).build();
        Evaluation a = t.evaluate(m, test);
        Evaluation b = t.evaluate(m, test);
        assertEquals(a, b, "dropout is off in eval mode, so two evaluations agree");
        assertEquals(60, a.samples());
        assertTrue(m.isTraining(), "the training mode is restored");
        assertTrue(m.parameters().stream().allMatch(p -> p.grad() == null), "no gradient recorded");
    }

    @Test
    void nonFiniteLossStopsWithWhereItHappened() {
        Trainer t = sgd(0.05).loss((out, y) -> out.sum().mul(Double.NaN)).build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> t.fit(net(1), loader(blobs(60, 2), false, 0), null));
        assertTrue(e.getMessage().contains("the loss is NaN at epoch 1, batch 1"), e.getMessage());
    }

    @Test
    void misconfigurationsSayWhatIsWrong() {
        assertThrows(IllegalStateException.class, () -> Trainer.builder().build());
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().epochs(0));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().earlyStopping(0, Monitor.TEST_LOSS));
        Trainer t = sgd(0.05).earlyStopping(2, Monitor.TEST_LOSS).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.fit(net(1), loader(blobs(30, 2), false, 0), null));
        assertTrue(e.getMessage().contains("need a test loader"), e.getMessage());
    }
}
