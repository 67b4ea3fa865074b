package dev.kiln.cli;

import dev.kiln.kernels.Affinity;
import dev.kiln.kernels.Parallel;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiln compare-torch}: training throughput of Kiln and of PyTorch (CPU) on the same model,
 * batch, optimizer and thread count, measured in turns in one run (Kiln, PyTorch, Kiln, ...), with
 * the medians and their ratio.
 */
@Command(name = "compare-torch", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Measures training throughput (images/s of SGD steps: forward, backward, update, on a fixed synthetic "
                + "batch of 28x28 images) of Kiln and PyTorch side by side, in turns, and prints both and the ratio.")
final class CompareTorchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "mlp", paramLabel = "NAME", description = "mlp, lenet5 or cnn; default ${DEFAULT-VALUE}")
    ModelKind model;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N", description = "threads of both; default ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--batch-size", defaultValue = "64", paramLabel = "N", description = "batch size; default ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--iterations", defaultValue = "100", paramLabel = "N",
            description = "timed steps per measurement; default ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--warmup", defaultValue = "20", paramLabel = "N",
            description = "untimed steps before each measurement; default ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--jit-warmup", defaultValue = "60", paramLabel = "SECONDS",
            description = "most seconds Kiln trains before the first round, stopping once its rate has settled "
                    + "(the JIT compiles Kiln's vector kernels during the first few thousand steps); default ${DEFAULT-VALUE}")
    double jitWarmup;

    @Option(names = "--repeats", defaultValue = "5", paramLabel = "N",
            description = "measurements of each, taken in turns after one unreported round (JIT and cache warm-up); "
                    + "default ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "0.01", description = "SGD learning rate; default ${DEFAULT-VALUE}")
    double lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum; default ${DEFAULT-VALUE}")
    double momentum;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "seed of the weights and the batch; default ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--cpu", defaultValue = "-1", paramLabel = "N",
            description = "with --threads 1, the CPU both run on (Kiln's training thread and PyTorch's process); default: the "
                    + "first CPU this process may use")
    int cpu;

    @Option(names = "--no-pin", description = "with --threads 1, let the OS place both (on a VM two vCPUs can differ in speed "
            + "for minutes, and each side may then keep a different one for the whole run)")
    boolean noPin;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", paramLabel = "PATH",
            description = "the Python with torch (Debian's python3-torch); default ${DEFAULT-VALUE}")
    Path python;

    @Override
    public Integer call() throws IOException {
        Kiln.atLeast(spec, "--threads", threads, 1);
        Kiln.atLeast(spec, "--batch-size", batchSize, 1);
        Kiln.atLeast(spec, "--iterations", iterations, 1);
        Kiln.atLeast(spec, "--warmup", warmup, 0);
        Kiln.atLeast(spec, "--repeats", repeats, 1);
        if (!(jitWarmup >= 0)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--jit-warmup: expected seconds >= 0, got " + jitWarmup);
        }
        if (noPin && cpu >= 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--cpu " + cpu + " and --no-pin: expected one of them, got both");
        }
        BitSet start = threads == 1 && !noPin && Affinity.supported() ? Affinity.get() : null;
        int pinned = -1;
        if (start != null) {
            try {
                pinned = Affinity.choose(cpu);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--cpu: " + e.getMessage());
            }
        }
        PrintWriter w = spec.commandLine().getOut();
        Parallel.setThreads(threads);
        w.printf(Locale.ROOT, "compare-torch: %s, batch %d, %d thread%s, SGD lr %s momentum %s, synthetic data; "
                        + "%d warm-up + %d timed steps per measurement, 1 unreported + %d round%s in turns%n",
                model, batchSize, threads, threads == 1 ? "" : "s", lr, momentum, warmup, iterations, repeats,
                repeats == 1 ? "" : "s");
        var os = ManagementFactory.getOperatingSystemMXBean();
        w.printf(Locale.ROOT, "machine: %d cores, load average %.2f (other work on the cores skews both figures)%n",
                os.getAvailableProcessors(), os.getSystemLoadAverage());
        if (threads == 1) {
            w.println(pinned >= 0 ? "both on CPU " + pinned + ": Kiln's training thread and PyTorch's process (--cpu N to choose, "
                    + "--no-pin to let the OS place them)"
                    : "not pinned to a CPU (" + (noPin ? "--no-pin" : Affinity.unsupportedReason()) + ")");
        }
        w.flush();
        if (pinned >= 0) {
            Affinity.pin(pinned);
        }
        try {
            run(w, pinned);
        } finally {
            if (pinned >= 0) {
                Affinity.set(start);
            }
        }
        return 0;
    }

    private void run(PrintWriter w, int pinned) throws IOException {
        KilnThroughput kiln = new KilnThroughput(model, batchSize, lr, momentum, seed);
        TorchProcess torch = null;
        try {
            torch = TorchProcess.start(python, model, threads, batchSize, lr, momentum, seed, pinned);
            w.printf("PyTorch %s (%s), torch.set_num_threads(%d), BLAS: %s, OMP_WAIT_POLICY=PASSIVE%n", torch.version(), python,
                    threads, torch.blas());
        } catch (IOException e) {
            w.println("PyTorch: not measured: " + e.getMessage());
        }
        w.flush();
        try {
            report(w, kiln, torch);
        } finally {
            if (torch != null) {
                torch.close();
            }
        }
    }

    private void report(PrintWriter w, KilnThroughput kiln, TorchProcess torch) throws IOException {
        double[] k = new double[repeats];
        double[] t = new double[repeats];
        TextTable table = torch == null ? new TextTable("run", "kiln img/s") : new TextTable("run", "kiln img/s", "torch img/s");
        double[] settled = kiln.warmUp(iterations, jitWarmup);
        w.printf(Locale.ROOT, "Kiln warm-up (JIT): %.1f s, %,.0f steps, %s%n", settled[0], settled[1],
                settled[2] > 0 ? "rate settled" : "stopped at --jit-warmup before the rate settled");
        w.flush();
        kiln.measure(warmup, iterations);
        if (torch != null) {
            torch.measure(warmup, iterations);
        }
        for (int r = 0; r < repeats; r++) {
            k[r] = kiln.measure(warmup, iterations);
            if (torch != null) {
                t[r] = torch.measure(warmup, iterations);
                table.row(Integer.toString(r + 1), rate(k[r]), rate(t[r]));
            } else {
                table.row(Integer.toString(r + 1), rate(k[r]));
            }
        }
        double km = median(k);
        if (torch == null) {
            w.print(table.row("median", rate(km)).render());
        } else {
            double tm = median(t);
            w.print(table.row("median", rate(km), rate(tm)).render());
            w.printf(Locale.ROOT, "Kiln / PyTorch: %.2fx (%s, %d thread%s, batch %d)%n", km / tm, model, threads,
                    threads == 1 ? "" : "s", batchSize);
        }
        w.flush();
    }

    private static String rate(double imagesPerSecond) {
        return String.format(Locale.ROOT, "%,.0f", imagesPerSecond);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
