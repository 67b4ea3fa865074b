package dev.kiln.bench;

import dev.kiln.kernels.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The report runner: Kiln and its peers (OpenBLAS through JavaCPP, PyTorch through a worker
 * process) on the same cases, interleaved round by round in one process run, so the ratios
 * compare like with like on a noisy machine. Prints a table (rate, percent of the measured peak,
 * ratio to each peer) and writes it as JSON and as a chart.
 *
 * <pre>
 * env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./kiln bench --threads 1,2 --groups sgemm,linear,conv,cnn,int8,sparse,ops,scaling
 * </pre>
 */
public final class Report {
    /** One measured row: median rates over the rounds (NaN where a peer has no counterpart). */
    record Row(String group, String name, int threads, String unit, double kiln, double blas, double torch, double peak,
               String baseline, double base, double bytesPerCall) {
    }

    private Report() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("--gpu")) {
            GpuReport.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(Options.USAGE);
            return;
        }
        Options o;
        Pinning pinning;
        try {
            o = Options.parse(args);
            pinning = Pinning.choose(o);
        } catch (IllegalArgumentException e) {
            System.err.println("kiln bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("Kiln bench: " + Runtime.getRuntime().availableProcessors() + " cpus, threads " + Arrays.toString(o.threads())
                + ", " + o.rounds() + " rounds of >= " + o.seconds() + " s per measurement");
        System.out.println("OpenBLAS core: " + OpenBlasPeer.coreName()
                + (System.getenv("OPENBLAS_CORETYPE") != null ? " (OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE")
                + " is set: OpenBLAS may run narrower kernels than this machine has)" : ""));
        TorchPeer torch = o.torch() ? TorchPeer.start() : null;
        if (torch != null) {
            System.out.println("PyTorch: " + torch.version());
        }
        List<Case> cases = cases(o.groups(), o.quick());
        List<Row> rows = new ArrayList<>();
        List<Scaling.Row> scaling = new ArrayList<>();
        int most = Arrays.stream(o.threads()).max().orElse(1);
        System.out.println(pinning.describe());
        try {
            boolean int8 = cases.stream().anyMatch(c -> c.unit().equals("GOP/s"));
            for (int t : o.threads()) {
                pinning.apply(t, torch);
                Quiet.await(TorchPeer.pid(torch));
                double peak = Peak.fp32(t);
                System.out.printf(Locale.ROOT, "measured fp32 peak at %d thread(s): %.1f GFLOP/s%n", t, peak);
                if (t > 1) {
                    Peak.HandOff h = Peak.handOff(t);
                    System.out.printf(Locale.ROOT, "hand-off check at %d threads: %d chunks of %.0f us took %.0f us "
                                    + "(median of 200), overlap %.2f (1 = side by side, 0 = one after the other on one "
                                    + "CPU: then short kernels cannot scale)%n", t, t, h.chunkMicros(), h.callMicros(),
                            h.overlap());
                }
                double peak8 = Double.NaN;
                if (int8) {
                    double pairs = Peak.int8(t);
                    double vnni = Peak.int8Vnni(t);
                    double madd = Peak.int8Madd(t);
                    double maddBytes = Peak.int8MaddBytes(t);
                    peak8 = !Double.isNaN(vnni) ? vnni : !Double.isNaN(madd) ? Math.max(madd, maddBytes) : pairs;
                    System.out.printf(Locale.ROOT, "measured int8 peak at %d thread(s): %.1f GOP/s (%s; Vector API "
                                    + "16-bit pair multiplies: %.1f GOP/s; C2's auto-vectorized vpdpwssd idiom, "
                                    + "accumulators in memory: %.1f GOP/s)%n", t, peak8,
                            !Double.isNaN(vnni) ? "vpdpbusd, Kiln's run-time generated int8 kernel"
                                    : !Double.isNaN(madd) ? String.format(Locale.ROOT, "vpmaddubsw + vpmaddwd + vpaddd, "
                                    + "Kiln's run-time generated AVX2 int8 kernel for activations in [0, 127]; for any "
                                    + "activations, vpmaddwd + vpaddd: %.1f GOP/s", madd)
                                    : "Vector API pairs, Kiln's int8 kernel here", pairs, Peak.int8AutoVec(t));
                }
                Map<String, Double> kilnRates = new HashMap<>();
                for (Case c : cases) {
                    double p = switch (c.unit()) {
                        case "GFLOP/s" -> peak;
                        case "GOP/s" -> peak8;
                        case "GB/s" -> {
                            Quiet.await(TorchPeer.pid(torch));
                            yield Peak.stream(t, c.footprint());
                        }
                        default -> Double.NaN;
                    };
                    Row r = measure(c, t, p, o, torch, c.baseline() == null ? Double.NaN
                            : kilnRates.getOrDefault(c.group() + "/" + c.baseline(), Double.NaN));
                    kilnRates.put(c.group() + "/" + c.name(), r.kiln());
                    rows.add(r);
                    System.out.println(Table.line(r));
                }
            }
            if (o.groups().contains("scaling")) {
                if (most < 2) {
                    System.out.println("scaling: skipped (it compares 1 thread with the largest --threads count, here 1)");
                } else {
                    System.out.println(Scaling.header(most));
                    scaling.addAll(Scaling.run(o.quick() ? new int[] {1024} : new int[] {1024, 2048}, most, o, pinning));
                }
            }
        } finally {
            pinning.release();
            if (torch != null) {
                torch.close();
            }
        }
        System.out.println();
        System.out.println(Table.format(rows));
        if (!scaling.isEmpty()) {
            System.out.println(Scaling.header(most));
            scaling.forEach(r -> System.out.println(Scaling.line(r)));
        }
        Files.createDirectories(o.out());
        Files.writeString(o.out().resolve("report.json"), Table.json(rows, OpenBlasPeer.coreName(), torch == null ? null : torch.version(),
                scaling.isEmpty() ? null : Scaling.json(scaling)));
        Chart.write(rows, o.out().resolve("report.png"));
        System.out.println(Quiet.summary());
        System.out.println("wrote " + o.out().resolve("report.json") + " and " + o.out().resolve("report.png"));
    }

    static List<Case> cases(Set<String> groups, boolean quick) {
        List<Case> all = new ArrayList<>();
        if (groups.contains("sgemm")) {
            all.addAll(Cases.sgemm(quick ? new int[] {256, 1024} : new int[] {128, 256, 512, 1024, 2048}));
        }
        if (groups.contains("linear")) {
            all.addAll(Cases.linear(64, new int[][] {{784, 300}, {1024, 1024}}));
            all.addAll(Cases.linearInference(1, new int[][] {{784, 300}, {1024, 1024}}));
        }
        if (groups.contains("conv")) {
            all.addAll(Cases.conv(64, new int[][] {{1, 6, 28, 5, 2}, {6, 16, 14, 5, 0}, {3, 32, 32, 3, 1}, {32, 64, 16, 3, 1},
                {64, 128, 8, 3, 1}}));
        }
        if (groups.contains("cnn")) { // the conv layers of the small VGG (`kiln train --model cnn`), 28x28 input
            all.addAll(Cases.conv(64, new int[][] {{1, 32, 28, 3, 1}, {32, 32, 28, 3, 1}, {32, 64, 14, 3, 1}, {64, 64, 14, 3, 1}}));
        }
        if (groups.contains("int8")) {
            all.addAll(Cases.int8(64, 1024, 1024));
        }
        if (groups.contains("sparse")) {
            all.addAll(Cases.sparse(64, 1024, new double[] {0.9, 0.95}));
        }
        if (groups.contains("ops")) {
            all.addAll(Cases.ops(64));
        }
        return all;
    }

    private static Row measure(Case c, int threads, double peak, Options o, TorchPeer torch, double baseRate) {
        double[] kiln = new double[o.rounds()];
        double[] blas = new double[o.rounds()];
        double[] pt = new double[o.rounds()];
        Arrays.fill(blas, Double.NaN);
        Arrays.fill(pt, Double.NaN);
        double bytes;
        OpenBlasPeer peer = c.blas() == null ? null : c.blas().create();
        try {
            Parallel.setThreads(threads);
            Timer.warmUp(c.kiln(), o.seconds(), o.warmup());
            long torchPid = TorchPeer.pid(torch);
            // each side measured only once the others' threads are idle: OpenBLAS's (here and in the
            // PyTorch worker) spin for ~0.15 s after a call and would take a core from the next side
            for (int r = 0; r < o.rounds(); r++) {
                Parallel.setThreads(threads);
                Quiet.await(torchPid);
                kiln[r] = c.ops() / Timer.secondsPerCall(c.kiln(), o.seconds()) * 1e-9;
                if (peer != null) {
                    OpenBlasPeer.threads(threads);
                    Quiet.await(torchPid);
                    blas[r] = c.ops() / Timer.secondsPerCall(peer::run, o.seconds()) * 1e-9;
                }
                if (torch != null && c.torchOp() != null) {
                    Quiet.await(torchPid);
                    pt[r] = c.ops() / torch.time(c.torchOp(), threads, withSeconds(c, o.seconds())) * 1e-9;
                }
            }
            // after the rounds, not right after the warm-up: C2 can still be compiling then (the
            // 14x14 conv cases allocated 11.7 MB per call instead of 3.5 in 2 of 8 fresh JVMs after
            // 30 calls, in none after 400), and the rounds are what the rates measure
            Parallel.setThreads(threads);
            bytes = Timer.bytesPerCall(c.kiln(), 20);
        } finally {
            if (peer != null) {
                peer.close();
            }
        }
        double k = median(kiln);
        return new Row(c.group(), c.name(), threads, c.unit(), k, median(blas), median(pt), peak, c.baseline(), k / baseRate, bytes);
    }

    private static java.util.Map<String, Object> withSeconds(Case c, double seconds) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>(c.torchArgs());
        m.put("seconds", seconds);
        return m;
    }

    static double median(double[] v) {
        double[] s = Arrays.stream(v).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
