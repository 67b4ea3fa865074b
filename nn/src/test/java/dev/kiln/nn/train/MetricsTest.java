package dev.kiln.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void weightsLossByBatchSizeAndCountsArgmaxHits() {
        Metrics m = new Metrics();
        assertTrue(Double.isNaN(m.loss()) && Double.isNaN(m.accuracy()));
        Tensor logits = Tensors.of(new float[] {2, 1, 0, 0, 1, 3, 5, 0, 0}, 3, 3);   // predicts 0, 2, 0
        m.add(1.0, logits, Tensors.of(new long[] {0, 2, 1}, 3));                    // 2 hits of 3
        m.add(4.0, Tensors.of(new float[] {0, 1}, 1, 2), Tensors.of(new long[] {1}, 1));   // 1 hit of 1
        assertEquals((3 * 1.0 + 4.0) / 4, m.loss(), 1e-15);
        assertEquals(0.75, m.accuracy(), 1e-15);
        assertEquals(4, m.samples());
    }

    @Test
    void accuracyIsNanForNonClassOutputs() {
        Metrics m = new Metrics();
        m.add(0.5, Tensors.zeros(4), Tensors.zeros(4));
        assertEquals(0.5, m.loss());
        assertTrue(Double.isNaN(m.accuracy()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Metrics.correct(Tensors.zeros(4, 2), Tensors.zeros(3)));
        assertTrue(e.getMessage().contains("[4, 2] F32 and [3] F32"), e.getMessage());
    }
}
