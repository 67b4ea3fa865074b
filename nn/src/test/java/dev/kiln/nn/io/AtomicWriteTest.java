package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that fails leaves the previous file as it was and no temporary file behind. */
class AtomicWriteTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void aWriteInterruptedMidwayLeavesThePreviousFileIntact() throws Exception {
        Path p = dir.resolve("ckpt.safetensors");
        Safetensors.write(p, Map.of("w", Tensors.ones(4)), Map.of("v", "old"));
        byte[] before = Files.readAllBytes(p);
        Thread.currentThread().interrupt();
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> Safetensors.write(p, Map.of("w", Tensors.zeros(1 << 20)), Map.of("v", "new")));
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        assertInstanceOf(ClosedByInterruptException.class, e.getCause());
        assertTrue(e.getMessage().startsWith(p + ": cannot write safetensors file (any previous file is unchanged)"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of(p), listing(), "the temporary file is removed");
    }

    @Test
    void aWriteWhoseFinalRenameFailsRemovesItsFullyWrittenTemporaryFile() throws Exception {
        Path p = Files.createDirectories(dir.resolve("taken.safetensors"));
        Path inside = Files.writeString(p.resolve("keep.txt"), "keep");
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> Safetensors.write(p, Map.of("w", Tensors.ones(1000))));
        assertTrue(e.getMessage().startsWith(p + ": cannot write safetensors file"), e.getMessage());
        assertEquals("keep", Files.readString(inside));
        assertEquals(List.of(p), listing());
    }

    @Test
    void aMissingDirectoryIsReportedAndNothingIsCreated() throws Exception {
        Path p = dir.resolve("no/such/dir/m.safetensors");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Safetensors.write(p, Map.of("w", Tensors.ones(1))));
        assertInstanceOf(NoSuchFileException.class, e.getCause());
        assertEquals(List.of(), listing());
    }

    @Test
    void aReaderOfThePreviousFileKeepsSeeingItWhileTheFileIsReplaced() {
        Path p = dir.resolve("live.safetensors");
        Safetensors.write(p, Map.of("w", Tensors.full(1, 3)));
        try (SafetensorsFile old = Safetensors.read(p)) {
            Safetensors.write(p, Map.of("w", Tensors.full(2, 3)));
            assertArrayEquals(new float[] {1, 1, 1}, old.tensor("w").toFloatArray());
            try (SafetensorsFile now = Safetensors.read(p)) {
                assertArrayEquals(new float[] {2, 2, 2}, now.tensor("w").toFloatArray());
            }
        }
    }
}
