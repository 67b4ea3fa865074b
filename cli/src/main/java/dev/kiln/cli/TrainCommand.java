package dev.kiln.cli;

import dev.kiln.engine.Device;
import dev.kiln.engine.Generator;
import dev.kiln.kernels.Parallel;
import dev.kiln.nn.Module;
import dev.kiln.nn.data.DataLoader;
import dev.kiln.nn.data.Dataset;
import dev.kiln.nn.data.Split;
import dev.kiln.nn.data.Transform;
import dev.kiln.nn.data.Transforms;
import dev.kiln.nn.train.EpochRecord;
import dev.kiln.nn.train.History;
import dev.kiln.nn.train.ProgressBar;
import dev.kiln.nn.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln train}: trains a model on Fashion-MNIST, writes the best checkpoint and a metrics log, prints a table. */
@Command(name = "train", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Trains a model on Fashion-MNIST; writes OUT/model.safetensors (best test accuracy) and "
                + "OUT/metrics.jsonl (one JSON object per epoch), then prints a summary table.")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "mlp", paramLabel = "NAME",
            description = "mlp (784-300-100-10), lenet5 or cnn (small VGG with batch norm); default ${DEFAULT-VALUE}")
    ModelKind model;

    @Option(names = "--optimizer", defaultValue = "sgd", paramLabel = "NAME",
            description = "sgd, adam or adamw; default ${DEFAULT-VALUE}")
    OptimizerKind optimizer;

    @Option(names = "--lr", paramLabel = "RATE", description = "learning rate; default 0.05 for sgd, 0.001 for adam and adamw")
    Double lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum; default ${DEFAULT-VALUE}")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "WD", description = "weight decay; default 0, 0.01 for adamw")
    Double weightDecay;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "5", description = "epochs; default ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", paramLabel = "N", description = "batch size; default ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "seed of the initialisation and the shuffling; default ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--threads", paramLabel = "N", description = "compute threads; default all cores (or KILN_THREADS)")
    Integer threads;

    @Option(names = "--data", defaultValue = "embedded", paramLabel = "SOURCE",
            description = "embedded (the subset in the jar), full (Debian's dataset-fashion-mnist) or a folder of IDX files; "
                    + "default ${DEFAULT-VALUE}")
    String data;

    @Option(names = "--schedule", defaultValue = "none", paramLabel = "NAME",
            description = "none, cosine, onecycle (per iteration) or step (/10 at 1/3 and 2/3 of the epochs); default ${DEFAULT-VALUE}")
    ScheduleKind schedule;

    @Option(names = "--augment", description = "random crop (padding 2) and horizontal flip of the training images")
    boolean augment;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder; default runs/MODEL")
    Path out;

    @Option(names = "--train-size", paramLabel = "N", description = "train on the first N training images only")
    Integer trainSize;

    @Option(names = "--test-size", paramLabel = "N", description = "test on the first N test images only")
    Integer testSize;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu, cuda or cuda:N (Kiln's own CUDA kernels; needs an NVIDIA driver); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--quiet", description = "print only the final table")
    boolean quiet;

    @Override
    public Integer call() {
        Kiln.atLeast(spec, "--epochs", epochs, 1);
        Kiln.atLeast(spec, "--batch-size", batchSize, 1);
        if (threads != null) {
            Kiln.atLeast(spec, "--threads", threads, 1);
            Parallel.setThreads(threads);
        }
        double rate = lr != null ? lr : optimizer.defaultLr();
        double wd = weightDecay != null ? weightDecay : optimizer.defaultWeightDecay();
        Path dir = out != null ? out : Path.of("runs", model.toString());
        PrintWriter w = spec.commandLine().getOut();

        Split split = DataSource.load(data);
        Dataset train = DataSource.head(split.train(), trainSize);
        Dataset test = DataSource.head(split.test(), testSize);
        Transform normalize = Transforms.normalize(DataSource.MEAN, DataSource.STD);
        Transform[] trainTransforms = augment
                ? new Transform[] {Transforms.randomCrop(28, 2), Transforms.horizontalFlip(0.5), normalize}
                : new Transform[] {normalize};
        DataLoader trainLoader = DataLoader.builder(train).batchSize(batchSize).shuffle(true).seed(seed)
                .transforms(trainTransforms).prefetch(2).build();
        DataLoader testLoader = DataLoader.builder(test).batchSize(Math.max(batchSize, 256)).transforms(normalize).prefetch(2)
                .build();
        Module net = model.create(new Generator(seed));

        Trainer.Builder b = Trainer.builder().epochs(epochs).device(Device.parse(device))
                .optimizer(params -> optimizer.create(params, rate, momentum, wd))
                .bestCheckpoint(dir.resolve("model.safetensors"))
                .metricsLog(dir.resolve("metrics.jsonl"));
        schedule.configure(b, rate);
        if (quiet) {
            b.quiet();
        } else {
            b.progress(ProgressBar.forTerminal(w));
            w.printf(Locale.ROOT, "kiln train: %s (%,d parameters), %s lr %s%s, weight decay %s, schedule %s%s, %d epochs, "
                            + "batch %d, seed %d, %d threads, device %s%n",
                    model, net.parameterCount(false), optimizer, rate, optimizer == OptimizerKind.SGD ? " momentum " + momentum : "",
                    wd, schedule, augment ? ", augmented" : "", epochs, batchSize, seed, Parallel.threads(), device);
            w.printf(Locale.ROOT, "data: %s, %,d training and %,d test images%n", data, train.size(), test.size());
            w.flush();
        }
        long t0 = System.nanoTime();
        History h = b.build().fit(net, trainLoader, testLoader);
        double seconds = (System.nanoTime() - t0) / 1e9;
        w.print(summary(net, h, train.size(), seconds));
        w.printf("checkpoint: %s (epoch %d, best test accuracy)%nmetrics:    %s%n", dir.resolve("model.safetensors"), h.bestEpoch(),
                dir.resolve("metrics.jsonl"));
        w.flush();
        return 0;
    }

    /** The final table: model, parameters, epochs, last train and test accuracy, seconds, training img/s. */
    private String summary(Module net, History h, int trainImages, double seconds) {
        double trainSeconds = 0;
        for (EpochRecord r : h.epochs()) {
            trainSeconds += trainImages / r.imagesPerSecond();
        }
        EpochRecord last = h.last();
        return new TextTable("model", "params", "epochs", "train acc", "test acc", "seconds", "img/s")
                .row(model.toString(), String.format(Locale.ROOT, "%,d", net.parameterCount(false)),
                        Integer.toString(h.epochs().size()), percent(last.trainAccuracy()), percent(last.testAccuracy()),
                        String.format(Locale.ROOT, "%.1f", seconds),
                        String.format(Locale.ROOT, "%,.0f", h.epochs().size() * (double) trainImages / trainSeconds))
                .render();
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}
