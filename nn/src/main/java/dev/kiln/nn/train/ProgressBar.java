package dev.kiln.nn.train;

import java.io.Console;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Training progress on a terminal: one line redrawn in place (carriage return) with the epoch,
 * batch i/n, running loss, rate in images per second and the estimated time left in the epoch;
 * at the end of each epoch the line is replaced by the epoch's summary. When the output is not a
 * terminal (a pipe, a file, CI) nothing is drawn during the epoch and only the summary line is
 * printed, one plain line per epoch.
 *
 * <pre>{@code
 * ProgressBar bar = ProgressBar.forTerminal(System.out);
 * bar.startEpoch(1, 5, loader.batchesPerEpoch());
 * bar.batch(i + 1, metrics.loss(), metrics.samples());
 * bar.endEpoch(record);
 * }</pre>
 */
public final class ProgressBar {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintWriter out;
    private final boolean interactive;
    private final LongSupplier clock;
    private int epoch;
    private int epochs;
    private int batches;
    private long start;
    private long lastDraw;
    private int lastLength;

    /** A bar on {@code out} that redraws in place when {@code interactive}, else prints one line per epoch. */
    public ProgressBar(PrintWriter out, boolean interactive) {
        this(out, interactive, System::nanoTime);
    }

    ProgressBar(PrintWriter out, boolean interactive, LongSupplier clock) {
        this.out = out;
        this.interactive = interactive;
        this.clock = clock;
    }

    /** A bar on {@code out} that redraws in place only when this JVM's standard streams are a terminal. */
    public static ProgressBar forTerminal(PrintWriter out) {
        return new ProgressBar(out, isTerminal());
    }

    /** A bar on {@code out} (for instance {@code System.out}); see {@link #forTerminal(PrintWriter)}. */
    public static ProgressBar forTerminal(PrintStream out) {
        return forTerminal(new PrintWriter(new OutputStreamWriter(out, out.charset())));
    }

    /**
     * Whether standard input and output are a terminal. {@code System.console()} alone does not tell
     * since JDK 22 (it returns a console for redirected streams too); {@link Console#isTerminal()} does.
     */
    public static boolean isTerminal() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Whether the line is redrawn in place during an epoch. */
    public boolean interactive() {
        return interactive;
    }

    /** Starts drawing epoch {@code epoch} (1-based) of {@code epochs}, which has {@code batches} batches. */
    public void startEpoch(int epoch, int epochs, int batches) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.batches = batches;
        this.start = clock.getAsLong();
        this.lastDraw = Long.MIN_VALUE;
        this.lastLength = 0;
    }

    /** Reports that {@code done} batches of the epoch are finished, with the running loss and samples seen. */
    public void batch(int done, double loss, long samples) {
        if (!interactive) {
            return;
        }
        long now = clock.getAsLong();
        if (done != 1 && done != batches && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        double elapsed = (now - start) / 1e9;
        double rate = elapsed > 0 ? samples / elapsed : 0;
        double eta = done > 0 ? elapsed / done * Math.max(0, batches - done) : Double.NaN;
        redraw(line(done, loss, rate, eta));
    }

    /** Replaces the bar with the summary of {@code r} (or prints it, when not interactive). */
    public void endEpoch(EpochRecord r) {
        String summary = summary(r, epochs);
        if (interactive) {
            redraw(summary);
            out.print(System.lineSeparator());
            lastLength = 0;
        } else {
            out.print(summary + System.lineSeparator());
        }
        out.flush();
    }

    private void redraw(String s) {
        int pad = Math.max(0, lastLength - s.length());
        out.print("\r" + s + " ".repeat(pad));
        out.flush();
        lastLength = s.length();
    }

    private String line(int done, double loss, double rate, double eta) {
        int filled = batches > 0 ? (int) ((long) BAR_WIDTH * done / batches) : BAR_WIDTH;
        String bar = "=".repeat(filled) + (filled < BAR_WIDTH ? ">" + " ".repeat(BAR_WIDTH - filled - 1) : "");
        return String.format(Locale.ROOT, "epoch %d/%d [%s] %d/%d  loss %.4f  %,.0f img/s  ETA %s",
                epoch, epochs, bar, done, batches, loss, rate, duration(eta));
    }

    /** The one-line summary of an epoch, e.g. {@code epoch 2/5  train loss 0.4121 acc 85.10%  test ...}. */
    public static String summary(EpochRecord r, int epochs) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d  train loss %.4f", r.epoch(), epochs,
                r.trainLoss()));
        if (!Double.isNaN(r.trainAccuracy())) {
            sb.append(String.format(Locale.ROOT, " acc %.2f%%", 100 * r.trainAccuracy()));
        }
        if (!Double.isNaN(r.testLoss())) {
            sb.append(String.format(Locale.ROOT, "  test loss %.4f", r.testLoss()));
        }
        if (!Double.isNaN(r.testAccuracy())) {
            sb.append(String.format(Locale.ROOT, " acc %.2f%%", 100 * r.testAccuracy()));
        }
        return sb.append(String.format(Locale.ROOT, "  lr %.4g  %.1f s  %,.0f img/s", r.lr(), r.seconds(), r.imagesPerSecond()))
                .toString();
    }

    /** {@code m:ss} (or {@code h:mm:ss}) for a number of seconds; {@code ?} when unknown. */
    static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
