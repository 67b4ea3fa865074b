package dev.kiln.nn.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A metrics log in JSON Lines: one object per epoch, written and flushed as each epoch ends, so a
 * log being written can be followed with {@code tail -f} and survives a killed run. Fields, in
 * order: {@code epoch, train_loss, train_acc, test_loss, test_acc, lr, seconds, images_per_second};
 * numbers are written in Java's shortest round-trip form (read back bit for bit), and a value that
 * was not measured ({@code NaN}) as {@code null}.
 *
 * <pre>{@code
 * try (MetricsLog log = MetricsLog.create(Path.of("out/metrics.jsonl"))) {
 *     log.write(record);
 * }
 * List<EpochRecord> back = MetricsLog.read(Path.of("out/metrics.jsonl"));
 * }</pre>
 */
public final class MetricsLog implements AutoCloseable {
    /** The field names of each line, in the order they are written. */
    public static final List<String> FIELDS =
            List.of("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds", "images_per_second");

    private final Path path;
    private final BufferedWriter out;

    private MetricsLog(Path path, BufferedWriter out) {
        this.path = path;
        this.out = out;
    }

    /** Creates (or truncates) the log at {@code path}, creating its parent folders. */
    public static MetricsLog create(Path path) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new MetricsLog(path, Files.newBufferedWriter(path, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot create " + path + ": " + e.getMessage(), e);
        }
    }

    /** Appends one line for {@code r} and flushes it. */
    public void write(EpochRecord r) {
        try {
            out.write(toJson(r));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot write to " + path + ": " + e.getMessage(), e);
        }
    }

    /** The JSON object of one record, on one line. */
    public static String toJson(EpochRecord r) {
        double[] values = {r.epoch(), r.trainLoss(), r.trainAccuracy(), r.testLoss(), r.testAccuracy(), r.lr(), r.seconds(),
            r.imagesPerSecond()};
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append('"').append(FIELDS.get(i)).append("\": ");
            double v = values[i];
            if (i == 0) {
                sb.append(r.epoch());
            } else if (Double.isFinite(v)) {
                sb.append(Double.toString(v));
            } else {
                sb.append("null");
            }
        }
        return sb.append('}').toString();
    }

    /** Reads a log written by this class back into records ({@code null} becomes {@code NaN}). */
    public static List<EpochRecord> read(Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog.read: cannot read " + path + ": " + e.getMessage(), e);
        }
        List<EpochRecord> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Map<String, Double> m = parseLine(lines.get(i), path + ":" + (i + 1));
            out.add(new EpochRecord((int) (double) m.get("epoch"), m.get("train_loss"), m.get("train_acc"), m.get("test_loss"),
                    m.get("test_acc"), m.get("lr"), m.get("seconds"), m.get("images_per_second")));
        }
        return out;
    }

    /** Parses one flat JSON object of numbers and nulls with exactly the {@link #FIELDS}. */
    static Map<String, Double> parseLine(String line, String where) {
        String s = line.strip();
        if (!s.startsWith("{") || !s.endsWith("}")) {
            throw new IllegalArgumentException(where + ": expected a JSON object {...}, got '" + line + "'");
        }
        Map<String, Double> m = new LinkedHashMap<>();
        String body = s.substring(1, s.length() - 1).strip();
        for (String pair : body.isEmpty() ? new String[0] : body.split(",")) {
            int colon = pair.indexOf(':');
            String key = colon < 0 ? "" : pair.substring(0, colon).strip();
            if (colon < 0 || key.length() < 2 || !key.startsWith("\"") || !key.endsWith("\"")) {
                throw new IllegalArgumentException(where + ": expected \"name\": value, got '" + pair.strip() + "'");
            }
            String value = pair.substring(colon + 1).strip();
            try {
                m.put(key.substring(1, key.length() - 1), value.equals("null") ? Double.NaN : Double.parseDouble(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": expected a number or null for " + key + ", got '" + value + "'", e);
            }
        }
        if (!List.copyOf(m.keySet()).equals(FIELDS)) {
            throw new IllegalArgumentException(where + ": expected the fields " + FIELDS + ", got " + m.keySet());
        }
        return m;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot close " + path + ": " + e.getMessage(), e);
        }
    }
}
