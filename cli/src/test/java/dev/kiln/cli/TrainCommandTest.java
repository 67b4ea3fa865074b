package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Generator;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.Module;
import dev.kiln.nn.io.Checkpoint;
import dev.kiln.nn.train.EpochRecord;
import dev.kiln.nn.train.MetricsLog;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainsAnMlpForOneEpochOnASliceOfTheEmbeddedData() {
        KilnTest.Run r = KilnTest.run("train", "--model", "mlp", "--epochs", "1", "--train-size", "2000", "--test-size", "500",
                "--threads", "2", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\\R");
        assertTrue(lines[0].startsWith("kiln train: mlp (266,610 parameters), sgd lr 0.05 momentum 0.9, weight decay 0.0"),
                lines[0]);
        assertEquals("data: embedded, 2,000 training and 500 test images", lines[1]);
        assertTrue(lines[2].startsWith("epoch 1/1  train loss "), "one plain line per epoch off a terminal: " + lines[2]);
        assertTrue(lines[3].matches("model +params +epochs +train acc +test acc +seconds +img/s"), lines[3]);
        assertTrue(lines[4].matches("mlp +266,610 +1 +\\d+\\.\\d\\d% +\\d+\\.\\d\\d% +\\d+\\.\\d +[\\d,]+"), lines[4]);
        assertTrue(lines[5].startsWith("checkpoint: " + dir.resolve("model.safetensors") + " (epoch 1"), lines[5]);

        List<EpochRecord> log = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(1, log.size());
        assertTrue(log.getFirst().testAccuracy() > 0.6, "one epoch on 2,000 images: " + log.getFirst());
        assertTrue(lines[4].contains(String.format(java.util.Locale.ROOT, "%.2f%%", 100 * log.getFirst().testAccuracy())), lines[4]);
        Module fresh = ModelKind.MLP.create(new Generator(1));
        LoadReport report = Checkpoint.load(fresh, dir.resolve("model.safetensors"), true);
        assertTrue(report.isComplete(), report.toString());
    }
}
