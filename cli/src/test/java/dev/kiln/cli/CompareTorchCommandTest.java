package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.kernels.Affinity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class CompareTorchCommandTest {
    private static final String[] TINY = {"--model", "mlp", "--threads", "1", "--batch-size", "8", "--iterations", "2",
        "--warmup", "1", "--repeats", "1", "--jit-warmup", "0"};

    private static String[] args(String python) {
        String[] a = new String[TINY.length + 3];
        a[0] = "compare-torch";
        System.arraycopy(TINY, 0, a, 1, TINY.length);
        a[TINY.length + 1] = "--python";
        a[TINY.length + 2] = python;
        return a;
    }

    @Test
    void withoutPythonItSaysSoAndReportsKilnAlone() {
        KilnTest.Run r = KilnTest.run(args("/no/such/python3"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("PyTorch: not measured: /no/such/python3 not found (install Debian's python3 and "
                + "python3-torch)"), r.out());
        assertTrue(r.out().matches("(?s).*\\nrun +kiln img/s\\R1 +[\\d,]+\\Rmedian +[\\d,]+\\R"), r.out());
        assertTrue(r.out().contains("Kiln warm-up (JIT): "), r.out());
    }

    @Test
    void withTorchItPrintsBothAndTheRatio() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        BitSet before = Affinity.supported() ? Affinity.get() : null;
        KilnTest.Run r = KilnTest.run(args("/usr/bin/python3"));
        assumeFalse(r.out().contains("PyTorch: not measured: cannot import torch"), "python3-torch is not installed");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("torch.set_num_threads(1)"), r.out());
        if (Affinity.supported()) {
            assertTrue(r.out().contains("both on CPU " + before.nextSetBit(0) + ": Kiln's training thread and PyTorch's process"),
                    r.out());
            assertEquals(before, Affinity.get(), "the command gives the calling thread its CPUs back");
        }
        assertTrue(r.out().matches("(?s).*\\nrun +kiln img/s +torch img/s\\R1 +[\\d,]+ +[\\d,]+\\Rmedian +[\\d,]+ +[\\d,]+\\R"
                + "Kiln / PyTorch: \\d+\\.\\d\\dx \\(mlp, 1 thread, batch 8\\)\\R"), r.out());
    }

    @Test
    void rejectsACpuItMayNotUseAndCpuWithNoPin() {
        assumeTrue(Affinity.supported(), Affinity.unsupportedReason());
        BitSet before = Affinity.get();
        KilnTest.Run r = KilnTest.run("compare-torch", "--cpu", "1000");
        assertTrue(r.code() != 0, r.out());
        assertTrue(r.err().contains("--cpu: expected one of the CPUs this process may use, " + before + ", got 1000"), r.err());
        r = KilnTest.run("compare-torch", "--cpu", "0", "--no-pin");
        assertTrue(r.code() != 0, r.out());
        assertTrue(r.err().contains("--cpu 0 and --no-pin: expected one of them, got both"), r.err());
        assertEquals(before, Affinity.get());
    }

    @Test
    void rejectsANegativeJitWarmup() {
        KilnTest.Run r = KilnTest.run("compare-torch", "--jit-warmup", "-1");
        assertTrue(r.code() != 0, r.out());
        assertTrue(r.err().contains("--jit-warmup: expected seconds >= 0, got -1.0"), r.err());
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, CompareTorchCommand.median(new double[] {3, 1, 2}));
        assertEquals(2.5, CompareTorchCommand.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void textTableAlignsColumns() {
        String t = new TextTable("run", "kiln img/s").row("1", "12,345").row("median", "9").render();
        assertEquals(String.join(System.lineSeparator(), "run     kiln img/s", "1           12,345", "median           9", ""), t);
    }
}
