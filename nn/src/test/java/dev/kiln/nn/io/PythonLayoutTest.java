package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by Python (tools/golden_engine.py, tools/golden_nn_lenet.py) read back as written. */
class PythonLayoutTest {
    @TempDir
    Path dir;

    static Path golden(String name) {
        try {
            return Path.of(PythonLayoutTest.class.getClassLoader().getResource("golden/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theEngineFixtureReadsInHeaderOrderWithItsValuesDecodedByHand() throws Exception {
        Path p = golden("engine_chain.safetensors");
        List<String> expected = new ArrayList<>(List.of("x", "w1", "b1", "w2", "b2", "w3", "b3", "target", "h1", "p1", "h2", "p2",
                "logits", "logp", "loss"));
        for (String n : List.of("x", "w1", "b1", "w2", "b2", "w3", "b3")) {
            expected.add("grad." + n);
        }
        byte[] raw = Files.readAllBytes(p);
        ByteBuffer le = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long dataStart = 8 + le.getLong(0);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(expected, f.names());
            assertEquals("tools/golden_engine.py", f.metadata().get("generator"));
            assertEquals(List.of("generator", "torch", "expression"), List.copyOf(f.metadata().keySet()));
            assertArrayEquals(new int[] {2, 3, 8, 8}, f.shape("x"));
            assertArrayEquals(new int[0], f.shape("loss"));
            for (TensorInfo info : f.infos()) {
                Tensor t = f.tensor(info.name());
                int at = (int) (dataStart + info.begin());
                if (info.name().equals("target")) {
                    assertEquals(DType.I64, t.dtype());
                    assertArrayEquals(new long[] {le.getLong(at), le.getLong(at + 8)}, t.toLongArray());
                    continue;
                }
                assertEquals(SafetensorsDType.F64, info.dtype(), info.name());
                double[] values = t.toDoubleArray();
                for (int i = 0; i < values.length; i++) {
                    assertEquals(le.getDouble(at + 8 * i), values[i], 0, info.name() + "[" + i + "]");
                }
            }
            Tensor logp = f.tensor("logp");
            assertArrayEquals(new long[] {1, 3}, f.tensor("target").toLongArray());
            assertEquals(-(logp.getDouble(0, 1) + logp.getDouble(1, 3)) / 2, f.tensor("loss").item(), 1e-15, "nll of log_softmax");
            for (int row = 0; row < 2; row++) {
                double sum = 0;
                for (int c = 0; c < 5; c++) {
                    sum += Math.exp(logp.getDouble(row, c));
                }
                assertEquals(1, sum, 1e-14, "softmax row " + row + " sums to 1");
            }
        }
    }

    @Test
    void kilnRewritesThePythonReferenceLayoutByteForByte() throws Exception {
        Path p = golden("lenet5.safetensors");
        Path copy = dir.resolve("lenet5.safetensors");
        Map<String, Tensor> tensors;
        Map<String, String> metadata;
        try (SafetensorsFile f = Safetensors.read(p)) {
            tensors = f.tensors();
            metadata = f.metadata();
            assertEquals("pt", metadata.get("format"));
            assertTrue(f.names().indexOf("classifier.0.bias") < f.names().indexOf("features.0.bias"), "name order");
        }
        Safetensors.write(copy, tensors, metadata);
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(copy));
    }
}
