package dev.kiln.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.StringJoiner;

/**
 * PyTorch as a peer: one long-lived Debian {@code /usr/bin/python3} process running
 * {@code torch_worker.py}, asked for one timing at a time so its measurements interleave with
 * Kiln's. Absent when python3-torch is not installed.
 */
final class TorchPeer implements AutoCloseable {
    static final String PYTHON = "/usr/bin/python3";

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;
    private final String version;
    /** The CPUs the worker's threads run on for the next requests ("all": those it started with). */
    private String cpus = "all";

    /** The worker process's pid, or 0 without a peer. */
    static long pid(TorchPeer peer) {
        return peer == null ? 0 : peer.process.pid();
    }

    private TorchPeer(Process process, BufferedWriter in, BufferedReader out, String version) {
        this.process = process;
        this.in = in;
        this.out = out;
        this.version = version;
    }

    /** Starts the worker, or returns null (with the reason on stderr) when PyTorch is not available. */
    static TorchPeer start() {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            System.err.println("PyTorch peer skipped: " + PYTHON + " not found (install Debian's python3-torch)");
            return null;
        }
        try {
            Path script = Files.createTempFile("kiln-torch-worker", ".py");
            script.toFile().deleteOnExit();
            try (InputStream s = TorchPeer.class.getResourceAsStream("torch_worker.py")) {
                Files.write(script, s.readAllBytes());
            }
            ProcessBuilder pb = new ProcessBuilder(PYTHON, script.toString());
            // The worker sets its threads per request (torch and OpenBLAS). Its OpenBLAS gets the
            // kernels for this CPU (OPENBLAS_CORETYPE would force narrower ones), and OpenMP workers
            // sleep between parallel regions instead of spinning against OpenBLAS's threads.
            pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
            // glibc malloc keeps freed blocks instead of handing them back to the OS: else, by its
            // dynamic mmap and trim thresholds, a case's MB-sized buffers (conv outputs, oneDNN's
            // reorders) were page-faulted in afresh on some calls and not others, and the peer's time
            // for one case swung with allocation history (conv 32->64 16x16 b64, 1 thread, CPU time:
            // 24-32 ms in one process, 10.7-11.1 with this).
            pb.environment().put("MALLOC_MMAP_THRESHOLD_", "1073741824");
            pb.environment().put("MALLOC_TRIM_THRESHOLD_", "1073741824");
            pb.environment().remove("OPENBLAS_CORETYPE");
            pb.environment().remove("OPENBLAS_L2_SIZE");
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            Process p = pb.start();
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String hello = r.readLine();
            if (hello == null || !hello.contains("\"ready\"")) {
                p.destroy();
                System.err.println("PyTorch peer skipped: the worker did not start (is python3-torch installed?)");
                return null;
            }
            return new TorchPeer(p, w, r, Json.stringField(hello, "torch"));
        } catch (IOException e) {
            System.err.println("PyTorch peer skipped: " + e.getMessage());
            return null;
        }
    }

    String version() {
        return version;
    }

    /**
     * Runs the worker's threads on {@code cpus} (comma-separated CPU numbers) from the next request
     * on, or on the CPUs it started with for "all". Threads it starts later inherit the set.
     */
    void cpus(String cpus) {
        this.cpus = cpus;
    }

    /** Mean seconds per call of {@code op} with the given parameters; NaN (reported) on error. */
    double time(String op, int threads, Map<String, Object> params) {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        j.add("\"op\": \"" + op + "\"");
        j.add("\"threads\": " + threads);
        j.add("\"cpus\": \"" + cpus + "\"");
        params.forEach((k, v) -> j.add("\"" + k + "\": " + (v instanceof Boolean || v instanceof Number ? v : "\"" + v + "\"")));
        try {
            in.write(j.toString());
            in.newLine();
            in.flush();
            String reply = out.readLine();
            if (reply == null) {
                throw new IOException("PyTorch worker exited");
            }
            if (reply.contains("\"error\"")) {
                System.err.println("PyTorch " + op + ": " + Json.stringField(reply, "error"));
                return Double.NaN;
            }
            return Json.numberField(reply, "seconds");
        } catch (IOException e) {
            throw new IllegalStateException("PyTorch peer failed on " + op + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            process.destroy();
        }
        process.destroy();
    }
}
