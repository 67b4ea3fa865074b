package dev.kiln.bench;

import dev.kiln.kernels.cuda.CudaDevice;
import dev.kiln.kernels.cuda.CudaUnavailableException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The GPU report ({@code ./kiln bench --gpu}): Kiln's GPU kernels against the vendor libraries
 * through PyTorch on the same machine in the same run (cuBLAS fp32/TF32/BF16 GEMM,
 * {@code torch._int_mm}, cuDNN conv2d, cuSPARSE CSR SpMM), with the targets. Each side is
 * timed with CUDA events (median of rounds). The peer is {@code gpu_worker.py} run by the python
 * in {@code KILN_PYTHON} (default {@code python3}, the one holding PyTorch on the GPU machines).
 *
 * <p>Options: {@code --quick} (1024-sized cases), {@code --cases NAME,..} (cases whose name
 * contains one of them), {@code --rounds N}, {@code --reps N}, {@code --no-torch}, {@code --out DIR}
 * (gpu-report-PRECISION.json). Conv cases run in the precision of
 * {@code -Dkiln.cuda.matmul} (fp32 unless set, tf32 compares with cuDNN's TF32).
 */
public final class GpuReport {
    private GpuReport() {
    }

    static List<GpuCase> cases(boolean quick) {
        int s = quick ? 1024 : 4096;
        String conv = "conv_" + System.getProperty("kiln.cuda.matmul", "fp32").toLowerCase(Locale.ROOT);
        List<GpuCase> cases = new ArrayList<>(List.of(
                GpuCase.gemm("gemm_fp32", s, s, s, 0.8),
                GpuCase.gemm("gemm_tf32", s, s, s, 0.7),
                GpuCase.gemm("gemm_bf16", s, s, s, 0.7),
                GpuCase.gemm("int8", s, s, s, 0.6)));
        if (conv.equals("conv_fp32") || conv.equals("conv_tf32")) {
            cases.add(quick ? GpuCase.conv(conv, 32, 64, 56, 64, 3, 1, 0.7) : GpuCase.conv(conv, 256, 128, 56, 128, 3, 1, 0.7));
        }
        cases.add(GpuCase.spmm(s, s, quick ? 128 : 512, 0.9, 1.0));
        return cases;
    }

    public static void main(String[] args) throws IOException {
        boolean quick = false;
        boolean torch = true;
        int rounds = 5;
        int reps = 10;
        Path out = Path.of("bench-results");
        List<String> only = List.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cases" -> only = List.of(args[++i].split(","));
                case "--quick" -> quick = true;
                case "--no-torch" -> torch = false;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option '" + args[i]
                        + "'; expected --gpu [--quick] [--cases NAME,..] [--rounds N] [--reps N] [--no-torch] [--out DIR]");
            }
        }
        CudaDevice dev;
        try {
            dev = CudaDevice.get(0);
        } catch (CudaUnavailableException e) {
            System.err.println("kiln bench --gpu: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("Kiln GPU bench on " + dev + ", " + rounds + " rounds of " + reps + " calls (median), CUDA events");
        List<String> filter = only;
        List<GpuCase> cases = cases(quick).stream().filter(c -> filter.isEmpty() || filter.stream().anyMatch(f -> c.name().contains(f)))
                .toList();
        Map<String, Double> kiln = new HashMap<>();
        try (GpuKiln k = new GpuKiln(dev)) {
            for (GpuCase c : cases) {
                try {
                    kiln.put(c.name(), k.time(c, reps, rounds));
                } catch (RuntimeException e) {
                    System.out.println("  Kiln " + c.name() + " failed: " + e);
                }
                k.close();
            }
        }
        Map<String, String[]> peer = torch ? peer(cases, reps, rounds) : Map.of();
        StringBuilder json = new StringBuilder("[\n");
        System.out.printf(Locale.ROOT, "%-34s %10s %10s %10s %10s %7s %7s  %s%n", "case", "Kiln ms", "Kiln T/s", "peer ms", "peer T/s",
                "ratio", "target", "peer");
        for (GpuCase c : cases) {
            double km = kiln.getOrDefault(c.name(), Double.NaN);
            String[] p = peer.get(c.name());
            double pm = p == null ? Double.NaN : Double.parseDouble(p[0]);
            double ratio = pm / km;
            String verdict = Double.isNaN(ratio) ? "" : ratio >= c.target() ? " met" : " MISSED";
            System.out.printf(Locale.ROOT, "%-34s %10.3f %10.1f %10.3f %10.1f %7.2f %6.2fx%s  %s%n", c.name(), km, c.ops() / km / 1e9,
                    pm, c.ops() / pm / 1e9, ratio, c.target(), verdict, p == null ? "-" : p[1]);
            json.append(String.format(Locale.ROOT, "  {\"case\": %s, \"kiln_ms\": %s, \"peer_ms\": %s, \"ratio\": %s, \"target\": %s, \"peer\": %s},%n",
                    Json.quote(c.name()), num(km), num(pm), num(ratio), num(c.target()), Json.quote(p == null ? "" : p[1])));
        }
        if (json.length() > 2) {
            json.setLength(json.length() - 2);
        }
        json.append("\n]\n");
        Files.createDirectories(out);
        Path file = out.resolve("gpu-report-" + System.getProperty("kiln.cuda.matmul", "fp32") + ".json");
        Files.writeString(file, json);
        System.out.println("ratio = peer ms / Kiln ms (above 1: Kiln faster); T/s = tera-operations per second; written " + file);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    /** Runs the PyTorch worker over every case: name -> {ms, note}; empty (with the reason) when it cannot run. */
    private static Map<String, String[]> peer(List<GpuCase> cases, int reps, int rounds) throws IOException {
        Map<String, String[]> res = new HashMap<>();
        Path script = Files.createTempFile("kiln-gpu-worker", ".py");
        script.toFile().deleteOnExit();
        try (InputStream s = GpuReport.class.getResourceAsStream("gpu_worker.py")) {
            Files.write(script, s.readAllBytes());
        }
        String python = System.getenv().getOrDefault("KILN_PYTHON", "python3");
        Process p;
        try {
            p = new ProcessBuilder(python, script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            System.out.println("PyTorch peer skipped: cannot start " + python + ": " + e.getMessage());
            return res;
        }
        StringBuilder list = new StringBuilder("[");
        for (GpuCase c : cases) {
            list.append(list.length() > 1 ? ", " : "").append(c.json(reps, rounds));
        }
        try (Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            w.write(list.append(']').toString());
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            if (line == null) {
                System.out.println("PyTorch peer skipped: " + python + " printed nothing (is PyTorch with CUDA installed?)");
                return res;
            }
            System.out.println("PyTorch " + Json.stringField(line, "torch") + ", CUDA " + Json.stringField(line, "cuda") + ", "
                    + Json.stringField(line, "device"));
            while ((line = r.readLine()) != null) {
                String name = Json.stringField(line, "name");
                String note = Json.stringField(line, "note");
                double ms = line.contains("\"ms\": null") ? Double.NaN : Json.numberField(line, "ms");
                res.put(name, new String[] {Double.toString(ms), note});
            }
        }
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return res;
    }
}
