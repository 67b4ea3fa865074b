package dev.kiln.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    private static final EpochRecord RECORD = new EpochRecord(1, 0.5, 0.8, 0.6, 0.75, 0.05, 2.0, 1000);

    /** A clock that advances 50 ms per reading. */
    private static final class Clock implements java.util.function.LongSupplier {
        long now;

        @Override
        public long getAsLong() {
            now += 50_000_000L;
            return now;
        }
    }

    private static String run(boolean interactive) {
        StringWriter text = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(text), interactive, new Clock());
        for (int epoch = 1; epoch <= 2; epoch++) {
            bar.startEpoch(epoch, 2, 10);
            for (int i = 1; i <= 10; i++) {
                bar.batch(i, 1.0 / i, 64L * i);
            }
            bar.endEpoch(new EpochRecord(epoch, 0.5, 0.8, 0.6, 0.75, 0.05, 2.0, 1000));
        }
        return text.toString().replace(System.lineSeparator(), "\n");
    }

    @Test
    void notATerminalPrintsOnePlainLinePerEpoch() {
        String s = run(false);
        assertFalse(s.contains("\r"), s);
        String[] lines = s.split("\n");
        assertEquals(2, lines.length, s);
        assertTrue(lines[0].startsWith("epoch 1/2  train loss 0.5000 acc 80.00%  test loss 0.6000 acc 75.00%"), lines[0]);
        assertTrue(lines[1].startsWith("epoch 2/2  "), lines[1]);
    }

    @Test
    void terminalRedrawsOneLineWithRateAndEta() {
        String s = run(true);
        assertTrue(s.contains("\repoch 1/2 [="), s);
        assertTrue(s.contains(" 1/10  loss 1.0000"), s);
        assertTrue(s.contains(" 10/10  loss 0.1000"), s);
        assertTrue(s.contains("img/s  ETA 0:00"), s);
        assertEquals(2, s.chars().filter(c -> c == '\n').count(), "one finished line per epoch: " + s);
        assertTrue(s.endsWith("\n"), s);
        // clock steps 50 ms per reading, redraws are at least 100 ms apart: batches 1, 3, 5, 7, 9 and 10 drawn
        int draws = s.split("\\repoch 1/2 \\[", -1).length - 1;
        assertEquals(6, draws, s);
    }

    @Test
    void summaryLeavesOutWhatWasNotMeasured() {
        EpochRecord noTest = new EpochRecord(3, 0.25, Double.NaN, Double.NaN, Double.NaN, 0.1, 1.5, 2500);
        assertEquals("epoch 3/4  train loss 0.2500  lr 0.1000  1.5 s  2,500 img/s", ProgressBar.summary(noTest, 4));
        assertEquals("epoch 1/1  train loss 0.5000 acc 80.00%  test loss 0.6000 acc 75.00%  lr 0.05000  2.0 s  1,000 img/s",
                ProgressBar.summary(RECORD, 1));
    }

    @Test
    void durationFormats() {
        assertEquals("0:07", ProgressBar.duration(7.2));
        assertEquals("2:05", ProgressBar.duration(125));
        assertEquals("1:01:01", ProgressBar.duration(3661));
        assertEquals("?", ProgressBar.duration(Double.NaN));
    }
}
