package dev.kiln.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @TempDir
    Path dir;

    @Test
    void writesOneFlushedObjectPerLineAndReadsItBackExactly() throws Exception {
        Path p = dir.resolve("sub/metrics.jsonl");
        EpochRecord a = new EpochRecord(1, 0.1 + 0.2, 0.875, 1.0 / 3, 0.5, 1e-4, 12.25, 4321.5);
        EpochRecord b = new EpochRecord(2, 0.25, Double.NaN, Double.NaN, Double.NaN, 0.05, 1.0, 100);
        try (MetricsLog log = MetricsLog.create(p)) {
            log.write(a);
            assertEquals(1, Files.readAllLines(p).size(), "flushed after each line");
            log.write(b);
        }
        List<String> lines = Files.readAllLines(p);
        assertEquals("{\"epoch\": 1, \"train_loss\": 0.30000000000000004, \"train_acc\": 0.875, \"test_loss\": 0.3333333333333333, "
                + "\"test_acc\": 0.5, \"lr\": 1.0E-4, \"seconds\": 12.25, \"images_per_second\": 4321.5}", lines.get(0));
        assertEquals("{\"epoch\": 2, \"train_loss\": 0.25, \"train_acc\": null, \"test_loss\": null, \"test_acc\": null, "
                + "\"lr\": 0.05, \"seconds\": 1.0, \"images_per_second\": 100.0}", lines.get(1));
        assertEquals(List.of(a, b), MetricsLog.read(p));
    }

    @Test
    void readRejectsMalformedLinesNamingTheLine() throws Exception {
        Path p = dir.resolve("bad.jsonl");
        Files.writeString(p, MetricsLog.toJson(new EpochRecord(1, 1, 1, 1, 1, 1, 1, 1)) + "\n{\"epoch\": 2, \"train_loss\": x}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsLog.read(p));
        assertTrue(e.getMessage().contains("bad.jsonl:2") && e.getMessage().contains("'x'"), e.getMessage());
        Files.writeString(p, "{\"epoch\": 2}\n");
        e = assertThrows(IllegalArgumentException.class, () -> MetricsLog.read(p));
        assertTrue(e.getMessage().contains("expected the fields [epoch, train_loss"), e.getMessage());
    }
}
