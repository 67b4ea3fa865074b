package dev.kiln.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Command-line options of the report runner.
 *
 * @param threads thread counts to measure (each case at each count)
 * @param groups  case families to run
 * @param rounds  interleaved rounds per case (the median is reported)
 * @param seconds minimum length of one timed block
 * @param warmup  most seconds spent warming up Kiln on a case before its rounds (it stops earlier once the rate settles)
 * @param out     folder for report.json and report.png
 * @param quick   fewer and smaller cases
 * @param torch   whether to start the PyTorch peer
 * @param cpu     the CPU that 1-thread measurements run on (Kiln's thread, OpenBLAS's and the
 *                PyTorch worker's), -1 for the first one this process may use
 * @param pin     whether 1-thread measurements are pinned to {@code cpu} at all
 */
record Options(int[] threads, Set<String> groups, int rounds, double seconds, double warmup, Path out, boolean quick, boolean torch,
               int cpu, boolean pin) {
    /** Every group, in the order they run (all of them when --groups is not given). */
    static final Set<String> GROUPS = java.util.Collections.unmodifiableSet(
            new LinkedHashSet<>(Arrays.asList("sgemm", "linear", "conv", "cnn", "int8", "sparse", "ops", "scaling")));

    /** What {@code ./kiln bench --help} prints. */
    static final String USAGE = """
            usage: ./kiln bench [--threads 1,2] [--groups %s] [--rounds N] [--seconds S]
                                [--warmup S] [--out DIR] [--quick] [--no-torch] [--cpu N | --no-pin]
                   ./kiln bench --gpu [--quick] [--cases ...]
              --threads   thread counts to measure, each in turn (default 1,2)
              --groups    which cases (default all, in that order); scaling: sgemm's per-thread rate
                          at the largest --threads count against 1 thread, the two alternated
              --rounds    rounds per measurement; the table shows medians (default 5)
              --seconds   minimum seconds per measurement (default 0.3)
              --warmup    at most this many seconds of warm-up per case, until its rate settles (default 20)
              --out       folder for report.json and report.png (default bench-results)
              --quick     smaller shapes, for a smoke run
              --no-torch  without the PyTorch peer
              --cpu       the CPU for 1-thread measurements: Kiln, OpenBLAS and PyTorch all run
                          there (default: the first CPU this process may use)
              --no-pin    let the OS place 1-thread measurements (on a VM two vCPUs can differ in
                          speed for minutes, and each side may then keep a different one)
              --gpu       the GPU report (Kiln's CUDA kernels against cuBLAS/cuDNN through PyTorch)
            For a fair OpenBLAS peer, unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in that command:
              env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./kiln bench""".formatted(String.join(",", GROUPS));

    static Options parse(String[] args) {
        int[] threads = {1, 2};
        Set<String> groups = new LinkedHashSet<>(GROUPS);
        int rounds = 5;
        double seconds = 0.3;
        double warmup = 20;
        Path out = Path.of("bench-results");
        boolean quick = false;
        boolean torch = true;
        int cpu = -1;
        boolean pin = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--threads" -> threads = Arrays.stream(value(args, ++i, a).split(",")).mapToInt(s -> positive(a, s)).toArray();
                case "--groups" -> {
                    groups = new LinkedHashSet<>(Arrays.asList(value(args, ++i, a).split(",")));
                    for (String g : groups) {
                        if (!GROUPS.contains(g)) {
                            throw new IllegalArgumentException("--groups: expected some of " + GROUPS + ", got '" + g + "'");
                        }
                    }
                }
                case "--rounds" -> rounds = positive(a, value(args, ++i, a));
                case "--seconds" -> seconds = Double.parseDouble(value(args, ++i, a));
                case "--warmup" -> warmup = Double.parseDouble(value(args, ++i, a));
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--quick" -> quick = true;
                case "--no-torch" -> torch = false;
                case "--cpu" -> {
                    String v = value(args, ++i, a).trim();
                    cpu = v.equals("0") ? 0 : positive(a, v);
                }
                case "--no-pin" -> pin = false;
                default -> throw new IllegalArgumentException("unknown option '" + a + "'; expected --threads 1,2 --groups "
                        + String.join(",", GROUPS) + " --rounds N --seconds S --warmup S --out DIR --quick --no-torch --cpu N "
                        + "--no-pin (see --help)");
            }
        }
        if (!pin && cpu >= 0) {
            throw new IllegalArgumentException("--cpu " + cpu + " and --no-pin: expected one of them, got both");
        }
        return new Options(threads, groups, rounds, seconds, warmup, out, quick, torch, cpu, pin);
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + ": expected a value, got none");
        }
        return args[i];
    }

    private static int positive(String opt, String s) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(opt + ": expected a positive integer, got '" + s + "'");
    }
}
