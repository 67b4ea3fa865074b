package dev.kiln.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScalingTest {
    private final Pinning unpinned = Pinning.choose(Options.parse(new String[] {"--no-pin"}));

    /**
     * A host whose speed rises by 10% of the start with every measurement, and a kernel that keeps
     * 90% per thread at 2 threads: the 1-thread blocks on both sides of the 2-thread one cancel the
     * drift, so every round reads 90% (one 1-thread block before it would read 90% x 11/10 and worse).
     */
    @Test
    void bracketingOneThreadBlocksCancelALinearDrift() {
        int[] calls = {0};
        double[] r = Scaling.rounds(t -> {
            double speed = 10 + calls[0]++;
            return t == 1 ? speed : 0.9 * t * speed;
        }, 2, 5, unpinned);
        assertEquals(0.9, r[2], 1e-12);
        assertEquals(3 * 5, calls[0], "three blocks a round");
        assertEquals(10 + 3 * 2 + 1, r[0], 1e-12, "median 1-thread rate: round 3's mean of its two");
        assertEquals(0.9 * 2 * (10 + 3 * 2 + 1), r[1], 1e-12);
    }

    @Test
    void reportJsonCarriesTheScalingRows() {
        List<Scaling.Row> rows = List.of(new Scaling.Row("sgemm 8x8x8", 2, 40, 76, 0.95, 41, 70, 0.854),
                new Scaling.Row("fp32 FMA peak loop", 2, 45, 88, 0.978, Double.NaN, Double.NaN, Double.NaN));
        String json = Table.json(List.of(), "Zen", null, Scaling.json(rows));
        assertTrue(json.contains("\"scaling\": [\n    {\"case\": \"sgemm 8x8x8\", \"threads\": 2, \"kiln_1\": 40.000, "
                + "\"kiln_n\": 76.000, \"kiln_per_thread\": 0.950, \"openblas_1\": 41.000, \"openblas_n\": 70.000, "
                + "\"openblas_per_thread\": 0.854}"), json);
        assertTrue(json.contains("\"openblas_per_thread\": null}\n  ]\n}"), json);
        assertTrue(Scaling.line(rows.get(0)).matches("sgemm 8x8x8 +40\\.0 +76\\.0 +95% +41\\.0 +70\\.0 +85%"),
                Scaling.line(rows.get(0)));
        assertTrue(!Table.json(List.of(), "Zen", null, null).contains("scaling"));
    }
}
