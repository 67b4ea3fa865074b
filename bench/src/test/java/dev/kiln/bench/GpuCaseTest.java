package dev.kiln.bench;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU report's cases: every target of the issue is measured, and the worker gets well-formed shapes. */
class GpuCaseTest {
    @Test
    void everyIssueTargetHasACase() {
        List<GpuCase> cases = GpuReport.cases(false);
        List<String> kinds = cases.stream().map(GpuCase::kind).toList();
        assertTrue(kinds.containsAll(List.of("gemm_fp32", "gemm_tf32", "gemm_bf16", "int8", "spmm")), kinds.toString());
        assertTrue(kinds.stream().anyMatch(k -> k.startsWith("conv_")), kinds.toString());
        GpuCase fp32 = cases.get(0);
        assertEquals("gemm fp32 4096x4096x4096", fp32.name());
        assertEquals(2.0 * 4096 * 4096 * 4096, fp32.ops());
        assertEquals(0.8, fp32.target());
        GpuCase conv = cases.stream().filter(c -> c.kind().startsWith("conv_")).findFirst().orElseThrow();
        assertEquals(256, conv.dims()[0], "batch 256");
        assertEquals(2.0 * 256 * 128 * 56 * 56 * 128 * 9, conv.ops());
    }

    @Test
    void workerJsonNamesTheShapeFields() {
        for (GpuCase c : GpuReport.cases(true)) {
            String j = c.json(10, 5);
            assertTrue(j.startsWith("{") && j.endsWith("}"), j);
            assertTrue(j.contains("\"kind\": \"" + c.kind() + "\"") && j.contains("\"reps\": 10"), j);
            for (String field : c.kind().startsWith("conv") ? List.of("n", "c", "h", "w", "oc", "k", "pad")
                    : c.kind().equals("spmm") ? List.of("m", "k", "n", "sparsity") : List.of("m", "n", "k")) {
                assertTrue(j.contains("\"" + field + "\": "), field + " missing in " + j);
            }
        }
    }
}
