package dev.kiln.nn.train;

import dev.kiln.engine.Device;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.data.Batch;
import dev.kiln.nn.data.DataLoader;
import dev.kiln.nn.io.Checkpoint;
import dev.kiln.nn.loss.Losses;
import dev.kiln.nn.optim.GradClip;
import dev.kiln.nn.optim.LrScheduler;
import dev.kiln.nn.optim.Optimizer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BinaryOperator;
import java.util.function.Function;

/**
 * The training loop: epochs of zero-grad, forward, loss, backward, optional gradient clipping,
 * optimizer step and schedule step, then evaluation on a test loader, with a progress bar,
 * a JSON-lines metrics log, early stopping and best-checkpoint saving. Nothing here draws random
 * numbers: with the same model initialisation, loader seed and thread count, a fit repeats its loss
 * curve exactly.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder()
 *         .epochs(5)
 *         .optimizer(params -> new SGD(params, 0.05, 0.9, 0.0, false))
 *         .schedulerPerIteration((opt, steps) -> new CosineAnnealingLR(opt, steps, 0.0))
 *         .earlyStopping(3, Monitor.TEST_ACCURACY)
 *         .bestCheckpoint(Path.of("out/model.safetensors"))
 *         .metricsLog(Path.of("out/metrics.jsonl"))
 *         .build();
 * History h = trainer.fit(model, trainLoader, testLoader);
 * }</pre>
 */
public final class Trainer {
    /** Called after every training batch with its 1-based epoch and batch numbers and its loss. */
    @FunctionalInterface
    public interface BatchListener {
        void batchEnd(int epoch, int batch, double loss);
    }

    private final int epochs;
    private final Optimizer optimizer;
    private final Function<List<Parameter>, Optimizer> optimizerFactory;
    private final BinaryOperator<Tensor> lossFn;
    private final SchedulerFactory scheduler;
    private final boolean perIteration;
    private final double clipNorm;
    private final int patience;
    private final Monitor monitor;
    private final Path checkpoint;
    private final Path metricsLog;
    private final ProgressBar progress;
    private final BatchListener listener;

    /** Where the model trains; batches are moved there step by step. */
    private final Device device;

    private Trainer(Builder b) {
        this.epochs = b.epochs;
        this.optimizer = b.optimizer;
        this.optimizerFactory = b.optimizerFactory;
        this.lossFn = b.lossFn;
        this.scheduler = b.scheduler;
        this.perIteration = b.perIteration;
        this.clipNorm = b.clipNorm;
        this.patience = b.patience;
        this.monitor = b.monitor;
        this.checkpoint = b.checkpoint;
        this.metricsLog = b.metricsLog;
        this.progress = b.progress;
        this.listener = b.listener;
        this.device = b.device;
    }

    /** A builder with PyTorch-like defaults: cross-entropy loss, no schedule, no clipping, progress on stdout. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Trains {@code model} on {@code train} for the configured epochs, evaluating on {@code test}
     * (nullable) after each; returns what each epoch measured. Early stopping and best-checkpoint
     * saving need a test loader.
     */
    public History fit(Module model, DataLoader train, DataLoader test) {
        Objects.requireNonNull(model, "fit: model");
        Objects.requireNonNull(train, "fit: train loader");
        if (test == null && (patience > 0 || checkpoint != null)) {
            throw new IllegalArgumentException("fit: early stopping and best-checkpoint saving monitor " + monitor
                    + " and need a test loader, got null");
        }
        if (checkpoint != null) {
            createParent(checkpoint);
        }
        model.to(device);
        Optimizer opt = optimizer != null ? optimizer : optimizerFactory.apply(model.parameters());
        int batches = train.batchesPerEpoch();
        LrScheduler schedule = scheduler == null ? null
                : scheduler.create(opt, perIteration ? epochs * batches : epochs);
        List<EpochRecord> records = new ArrayList<>();
        double best = Double.NaN;
        int bestEpoch = 0;
        int stale = 0;
        boolean stopped = false;
        try (MetricsLog log = metricsLog == null ? null : MetricsLog.create(metricsLog)) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                EpochRecord r = epoch(model, opt, schedule, train, test, epoch, batches);
                records.add(r);
                if (progress != null) {
                    progress.endEpoch(r);
                }
                if (log != null) {
                    log.write(r);
                }
                if (test == null) {
                    continue;
                }
                double v = monitor.value(r);
                if (monitor.improves(v, best)) {
                    best = v;
                    bestEpoch = epoch;
                    stale = 0;
                    if (checkpoint != null) {
                        Checkpoint.save(model, checkpoint, checkpointMetadata(r));
                    }
                } else if (patience > 0 && ++stale >= patience) {
                    stopped = epoch < epochs;
                    break;
                }
            }
        }
        return new History(records, bestEpoch, stopped);
    }

    private EpochRecord epoch(Module model, Optimizer opt, LrScheduler schedule, DataLoader train, DataLoader test,
                              int epoch, int batches) {
        double lr = opt.groups().get(0).lr();
        long t0 = System.nanoTime();
        model.train(true);
        List<Parameter> params = clipNorm > 0 ? model.parameters() : List.of();
        if (progress != null) {
            progress.startEpoch(epoch, epochs, batches);
        }
        Metrics m = new Metrics();
        int i = 0;
        for (Batch batch : train) {
            opt.zeroGrad();
            Tensor y = batch.y().to(device);
            Tensor out = model.forward(batch.x().to(device));
            Tensor loss = lossFn.apply(out, y);
            loss.backward();
            if (clipNorm > 0) {
                GradClip.clipGradNorm(params, clipNorm);
            }
            opt.step();
            if (schedule != null && perIteration) {
                schedule.step();
            }
            double l = loss.item();
            i++;
            if (!Double.isFinite(l)) {
                throw new IllegalStateException("Trainer: the loss is " + l + " at epoch " + epoch + ", batch " + i
                        + " (lr " + opt.groups().get(0).lr() + "): lower the learning rate or clip gradients");
            }
            m.add(l, out, y);
            if (listener != null) {
                listener.batchEnd(epoch, i, l);
            }
            if (progress != null) {
                progress.batch(i, m.loss(), m.samples());
            }
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        if (schedule != null && !perIteration) {
            schedule.step();
        }
        Evaluation ev = test == null ? new Evaluation(Double.NaN, Double.NaN, 0) : evaluate(model, test);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new EpochRecord(epoch, m.loss(), m.accuracy(), ev.loss(), ev.accuracy(), lr, seconds,
                m.samples() / Math.max(trainSeconds, 1e-9));
    }

    /**
     * Mean loss and accuracy of {@code model} over {@code loader}, in evaluation mode and without
     * recording gradients; the model's previous train/eval mode is restored.
     */
    public Evaluation evaluate(Module model, DataLoader loader) {
        boolean wasTraining = model.isTraining();
        model.eval();
        Metrics m = new Metrics();
        try (var ng = Grad.disabled()) {
            for (Batch batch : loader) {
                Tensor y = batch.y().to(device);
                Tensor out = model.forward(batch.x().to(device));
                m.add(lossFn.apply(out, y).item(), out, y);
            }
        } finally {
            model.train(wasTraining);
        }
        return new Evaluation(m.loss(), m.accuracy(), m.samples());
    }

    private static void createParent(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException("Trainer: cannot create the folder " + parent + " for the checkpoint: " + e, e);
        }
    }

    private Map<String, String> checkpointMetadata(EpochRecord r) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("epoch", Integer.toString(r.epoch()));
        meta.put("test_loss", Double.toString(r.testLoss()));
        meta.put("test_acc", Double.toString(r.testAccuracy()));
        meta.put("monitor", monitor.name().toLowerCase(Locale.ROOT));
        return meta;
    }

    /** Configures a {@link Trainer}; every setting is optional except the optimizer. */
    public static final class Builder {
        private int epochs = 1;
        private Optimizer optimizer;
        private Function<List<Parameter>, Optimizer> optimizerFactory;
        private BinaryOperator<Tensor> lossFn = Losses::crossEntropy;
        private SchedulerFactory scheduler;
        private boolean perIteration;
        private double clipNorm;
        private int patience;
        private Monitor monitor = Monitor.TEST_ACCURACY;
        private Path checkpoint;
        private Path metricsLog;
        private ProgressBar progress = ProgressBar.forTerminal(System.out);
        private BatchListener listener;
        private Device device = Device.CPU;

        private Builder() {
        }

        /**
         * The device to train on (default the CPU): {@code fit} moves the model there and each batch
         * as it is used, as {@code model.to(device)} and {@code x.to(device)} in a PyTorch loop.
         */
        public Builder device(Device d) {
            this.device = Objects.requireNonNull(d, "Trainer.device: device");
            return this;
        }

        /** Number of epochs (>= 1; default 1). */
        public Builder epochs(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("Trainer.epochs: expected >= 1, got " + n);
            }
            this.epochs = n;
            return this;
        }

        /** An optimizer made at the start of each fit from the model's parameters. */
        public Builder optimizer(Function<List<Parameter>, Optimizer> factory) {
            this.optimizerFactory = Objects.requireNonNull(factory, "Trainer.optimizer: factory");
            this.optimizer = null;
            return this;
        }

        /** An optimizer already built over the model's parameters (its state carries over between fits). */
        public Builder optimizer(Optimizer instance) {
            this.optimizer = Objects.requireNonNull(instance, "Trainer.optimizer: instance");
            this.optimizerFactory = null;
            return this;
        }

        /** The loss {@code (output, target) -> scalar}; default {@link Losses#crossEntropy}. */
        public Builder loss(BinaryOperator<Tensor> fn) {
            this.lossFn = Objects.requireNonNull(fn, "Trainer.loss");
            return this;
        }

        /** A schedule stepped after every optimizer step; {@code totalSteps} = epochs x batches per epoch. */
        public Builder schedulerPerIteration(SchedulerFactory factory) {
            this.scheduler = Objects.requireNonNull(factory, "Trainer.schedulerPerIteration");
            this.perIteration = true;
            return this;
        }

        /** A schedule stepped once at the end of every epoch; {@code totalSteps} = epochs. */
        public Builder schedulerPerEpoch(SchedulerFactory factory) {
            this.scheduler = Objects.requireNonNull(factory, "Trainer.schedulerPerEpoch");
            this.perIteration = false;
            return this;
        }

        /** Clips the gradients' total L2 norm to {@code maxNorm} before every step. */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm > 0)) {
                throw new IllegalArgumentException("Trainer.clipGradNorm: expected a norm > 0, got " + maxNorm);
            }
            this.clipNorm = maxNorm;
            return this;
        }

        /** Stops after {@code patience} epochs in a row without improving {@code monitor}. */
        public Builder earlyStopping(int patience, Monitor monitor) {
            if (patience < 1) {
                throw new IllegalArgumentException("Trainer.earlyStopping: expected a patience >= 1 epoch, got " + patience);
            }
            this.patience = patience;
            return monitor(monitor);
        }

        /** The test metric that decides the best epoch (default test accuracy). */
        public Builder monitor(Monitor m) {
            this.monitor = Objects.requireNonNull(m, "Trainer.monitor");
            return this;
        }

        /** Saves the model to {@code path} (safetensors) whenever the monitored metric improves. */
        public Builder bestCheckpoint(Path path) {
            this.checkpoint = Objects.requireNonNull(path, "Trainer.bestCheckpoint");
            return this;
        }

        /** Writes one JSON object per epoch to {@code path} (see {@link MetricsLog}). */
        public Builder metricsLog(Path path) {
            this.metricsLog = Objects.requireNonNull(path, "Trainer.metricsLog");
            return this;
        }

        /** Draws progress with {@code bar} (default: {@link ProgressBar#forTerminal} on stdout). */
        public Builder progress(ProgressBar bar) {
            this.progress = Objects.requireNonNull(bar, "Trainer.progress");
            return this;
        }

        /** Progress on {@code out}, redrawn in place only when it is a terminal. */
        public Builder progress(PrintStream out) {
            return progress(ProgressBar.forTerminal(out));
        }

        /** Prints nothing. */
        public Builder quiet() {
            this.progress = null;
            return this;
        }

        /** Calls {@code l} after every training batch. */
        public Builder onBatch(BatchListener l) {
            this.listener = Objects.requireNonNull(l, "Trainer.onBatch");
            return this;
        }

        /** The trainer; fails when no optimizer was given. */
        public Trainer build() {
            if (optimizer == null && optimizerFactory == null) {
                throw new IllegalStateException("Trainer.build: no optimizer: call optimizer(params -> new SGD(...)) "
                        + "or optimizer(instance)");
            }
            return new Trainer(this);
        }
    }
}
