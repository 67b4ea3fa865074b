package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class KilnTest {
    /** Exit code, standard output and standard error of one run of the command line. */
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Kiln.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void unknownModelListsTheValidOnes() {
        Run r = run("train", "--model", "resnet");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("kiln train: Invalid value for option '--model': expected one of [mlp, lenet5, cnn] "
                + "but was 'resnet'"), r.err());
        assertTrue(r.err().contains("Run 'kiln train --help' for the options."), r.err());
    }

    @Test
    void trainingOnAnUnavailableGpuSaysWhyInOneLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.kiln.kernels.cuda.CudaDevice.isAvailable(0), "a usable GPU is present");
        Run r = run("train", "--device", "cuda", "--epochs", "1", "--train-size", "64", "--test-size", "64", "--quiet",
                "--out", dir.toString());
        assertEquals(1, r.code());
        assertEquals("kiln train: " + dev.kiln.kernels.cuda.CudaDevice.unavailableReason(0), r.err().strip());
    }

    @Test
    void choicesIgnoreCase() throws Exception {
        assertEquals(OptimizerKind.ADAMW, Kiln.choices(OptimizerKind.class).convert("AdamW"));
        assertEquals(ScheduleKind.ONECYCLE, Kiln.choices(ScheduleKind.class).convert("onecycle"));
        Run r = run("train", "--schedule", "linear");
        assertTrue(r.err().contains("expected one of [none, cosine, onecycle, step] but was 'linear'"), r.err());
    }

    @Test
    void misspeltOptionsAndCommandsGetSuggestions() {
        Run r = run("train", "--epoch=3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unknown option: '--epoch=3'") && r.err().contains("Possible solutions: --epochs"), r.err());
        r = run("trian");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unmatched argument at index 0: 'trian'") && r.err().contains("train"), r.err());
        r = run();
        assertTrue(r.err().contains("kiln: Missing required subcommand"), r.err());
    }

    @Test
    void outOfRangeNumbersSayWhatWasExpected() {
        Run r = run("train", "--epochs", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("kiln train: --epochs: expected a number >= 1, got 0"), r.err());
        r = run("train", "--batch-size", "x");
        assertTrue(r.err().contains("Invalid value for option '--batch-size': 'x' is not an int"), r.err());
        r = run("compare-torch", "--threads", "0");
        assertTrue(r.err().contains("kiln compare-torch: --threads: expected a number >= 1, got 0"), r.err());
    }

    @Test
    void aMissingDataFolderIsAClearError() {
        Run r = run("train", "--data", "/no/such/dir", "--quiet");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("kiln train: --data: expected embedded, full or a folder with the Fashion-MNIST IDX files, "
                + "got '/no/such/dir' (no such folder)"), r.err());
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("train") && r.out().contains("compare-torch"), r.out());
    }
}
