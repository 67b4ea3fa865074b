package dev.kiln.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Where CUDA cannot be used, asking for it fails with one clear sentence; argument checks need no GPU. */
class CudaAvailabilityTest {
    @Test
    void unavailableDeviceFailsWithOneSentence() {
        assumeFalse(CudaDevice.isAvailable(0), "a usable GPU is present");
        String reason = CudaDevice.unavailableReason(0);
        assertTrue(reason.startsWith("CUDA is unavailable: "), reason);
        assertFalse(reason.contains("\n"), reason);
        assertEquals(1, reason.split("\\. ").length, "one sentence: " + reason);
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaDevice.get(0));
        assertEquals(reason, e.getMessage(), "the same sentence every time");
    }

    @Test
    void negativeOrdinalIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> CudaDevice.get(-1));
    }

    @Test
    void gemmShapeChecksLeadingDims() {
        CudaBlas.GemmShape s = CudaBlas.GemmShape.of(3, 5, 7, false, true);
        assertEquals(7, s.lda());
        assertEquals(7, s.ldb());
        assertEquals(5, s.ldc());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CudaBlas.GemmShape(3, 5, 7, false, false, 6, 5, 5, 1, 0, 0, 0));
        assertEquals("gemm: expected lda >= 7, got 6", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CudaBlas.GemmShape(-1, 5, 7, false, false, 7, 5, 5, 1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CudaBlas.GemmShape(3, 5, 7, false, false, 7, 5, 5, 0, 0, 0, 0));
    }

    @Test
    void exceptionNamesTheCallAndTheError() {
        CudaException e = new CudaException("cuMemAlloc(64 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc(64 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.getMessage());
        assertEquals(2, e.code());
        assertEquals("cuMemAlloc(64 bytes)", e.call());
    }

    @Test
    void fatbinModulesMatchTheCudaSources() throws Exception {
        java.nio.file.Path src = java.nio.file.Path.of("src/main/cuda");
        assumeFalse(!java.nio.file.Files.isDirectory(src), "sources not at " + src.toAbsolutePath());
        try (var files = java.nio.file.Files.list(src)) {
            var names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList();
            assertEquals(Fatbin.MODULES.stream().sorted().toList(), names);
        }
        if (Fatbin.available()) {
            for (String m : Fatbin.MODULES) {
                assertTrue(Fatbin.class.getResource(Fatbin.FOLDER + m + ".fatbin") != null, m + ".fatbin missing from the build");
            }
        }
    }
}
