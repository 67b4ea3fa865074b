package dev.kiln.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch's side of {@code kiln compare-torch}: a Python process running the script
 * {@code compare_torch.py} (a resource of this jar, written to a temporary file) that builds the
 * same model and measures the same SGD step on request, so the two sides can take turns.
 */
final class TorchProcess implements AutoCloseable {
    private static final String PREFIX = "kiln-compare ";

    private final Process process;
    private final Path script;
    private final BufferedReader in;
    private final PrintWriter out;
    private final List<String> chatter = new ArrayList<>();
    private final String version;
    private final String blas;

    private TorchProcess(Process process, Path script) throws IOException {
        this.process = process;
        this.script = script;
        this.in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.out = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
        String[] ready = reply("ready").split(" ", 3);
        this.version = ready[0];
        this.blas = ready.length > 2 ? ready[2] : "unknown BLAS";
    }

    /**
     * Starts {@code python} on the script for {@code model} with {@code threads} threads, all its
     * threads on CPU {@code cpu} when that is not negative; throws an {@link IOException} saying why
     * when Python or torch is missing.
     */
    static TorchProcess start(Path python, ModelKind model, int threads, int batch, double lr, double momentum, long seed,
                              int cpu) throws IOException {
        if (!Files.isExecutable(python)) {
            throw new IOException(python + " not found (install Debian's python3 and python3-torch)");
        }
        Path script = Files.createTempFile("kiln-compare-torch", ".py");
        try (InputStream s = TorchProcess.class.getResourceAsStream("compare_torch.py")) {
            if (s == null) {
                throw new IOException("resource dev/kiln/cli/compare_torch.py is missing from the jar");
            }
            Files.copy(s, script, StandardCopyOption.REPLACE_EXISTING);
        }
        ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(), "--model", model.toString(),
                "--threads", Integer.toString(threads), "--batch-size", Integer.toString(batch),
                "--lr", Double.toString(lr), "--momentum", Double.toString(momentum), "--seed", Long.toString(seed),
                "--cpu", Integer.toString(cpu))
                .redirectErrorStream(true);
        String n = Integer.toString(threads);
        // PyTorch at its best on this machine: its BLAS (Debian's torch calls the system OpenBLAS) with
        // the same thread count and the kernels for this CPU (OPENBLAS_CORETYPE would force narrower
        // ones), and OpenMP workers that sleep between parallel regions instead of spinning against
        // OpenBLAS's own threads (spinning halves PyTorch's 2-thread MLP rate on 2 cores).
        pb.environment().put("OMP_NUM_THREADS", n);
        pb.environment().put("MKL_NUM_THREADS", n);
        pb.environment().put("OPENBLAS_NUM_THREADS", n);
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        // glibc malloc keeps freed blocks instead of returning them to the OS, as the bench's torch
        // peer does (TorchPeer): otherwise MB-sized activations can be page-faulted in afresh on
        // some steps and not others, and PyTorch's time depends on its allocation history.
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "1073741824");
        pb.environment().put("MALLOC_TRIM_THRESHOLD_", "1073741824");
        pb.environment().remove("OPENBLAS_CORETYPE");
        pb.environment().remove("OPENBLAS_L2_SIZE");
        Process process = null;
        try {
            process = pb.start();
            return new TorchProcess(process, script);
        } catch (IOException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(script);
            throw e;
        }
    }

    /** The torch version the script reported. */
    String version() {
        return version;
    }

    /** The BLAS PyTorch calls, as the script reported it (e.g. "OpenBLAS Cooperlake, 1 thread"). */
    String blas() {
        return blas;
    }

    /** Runs {@code warmup} untimed steps and {@code iterations} timed ones in PyTorch; returns images per second. */
    double measure(int warmup, int iterations) throws IOException {
        out.printf(Locale.ROOT, "run %d %d%n", warmup, iterations);
        String r = reply("result");
        try {
            return Double.parseDouble(r);
        } catch (NumberFormatException e) {
            throw new IOException("compare_torch.py: expected a number of images per second, got '" + r + "'", e);
        }
    }

    /** Reads lines up to the next {@code kiln-compare <kind> ...} one and returns what follows the kind. */
    private String reply(String kind) throws IOException {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (!line.startsWith(PREFIX)) {
                chatter.add(line);
                continue;
            }
            String rest = line.substring(PREFIX.length());
            if (rest.startsWith(kind + " ")) {
                return rest.substring(kind.length() + 1).strip();
            }
            if (rest.startsWith("unavailable ")) {
                throw new IOException(rest.substring("unavailable ".length()));
            }
            throw new IOException("compare_torch.py: expected '" + kind + "', got '" + line + "'");
        }
        throw new IOException("the Python process ended before answering '" + kind + "'"
                + (chatter.isEmpty() ? "" : "; its output:\n" + String.join("\n", chatter)));
    }

    @Override
    public void close() throws IOException {
        out.println("quit");
        out.close();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
