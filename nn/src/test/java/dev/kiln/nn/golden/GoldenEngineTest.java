package dev.kiln.nn.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.engine.DType;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.io.Safetensors;
import dev.kiln.nn.io.SafetensorsFile;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The chain of tools/golden_engine.py (conv2d, relu, max pool, grouped conv2d, gelu, avg pool,
 * matmul, log_softmax, nll loss) run by Kiln on PyTorch's inputs: forward values, the loss and
 * every gradient must match PyTorch's, in F64 tightly and in F32 within float rounding. The fixture
 * ({@code src/test/resources/golden/engine_chain.safetensors}, float64) is read with Kiln's own safetensors
 * reader, whose byte-level decoding of this very file is checked by {@code PythonLayoutTest}.
 */
class GoldenEngineTest {
    private static final String[] PARAMS = {"x", "w1", "b1", "w2", "b2", "w3", "b3"};
    private static final Map<String, Tensor> FIX = readFixture("golden/engine_chain.safetensors");

    private static Map<String, Tensor> readFixture(String resource) {
        try (SafetensorsFile f = Safetensors.read(Path.of(GoldenEngineTest.class.getClassLoader().getResource(resource).toURI()))) {
            return f.tensors();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Tensor load(String name, DType dt) {
        return FIX.get(name).to(dt);
    }

    private static double[] expected(String name) {
        return FIX.get(name).toDoubleArray();
    }

    private static void assertClose(String what, double[] expected, Tensor actual, double atol, double rtol) {
        double[] a = actual.toDoubleArray();
        assertEquals(expected.length, a.length, what + ": element count");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < a.length; i++) {
            double excess = Math.abs(a[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
            if (excess > worst) {
                worst = excess;
                at = i;
            }
        }
        if (at >= 0) {
            throw new AssertionError(what + ": element " + at + " is " + a[at] + ", PyTorch gives " + expected[at]
                    + " (|diff| " + Math.abs(a[at] - expected[at]) + " exceeds " + atol + " + " + rtol + "*|expected|)");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    void matchesPyTorchForwardAndEveryGradient(DType dt) {
        double atol = dt == DType.F64 ? 1e-12 : 2e-5;
        double rtol = dt == DType.F64 ? 1e-10 : 2e-4;
        Map<String, Tensor> p = new LinkedHashMap<>();
        for (String n : PARAMS) {
            p.put(n, load(n, dt).requiresGrad(true));
        }
        Tensor target = FIX.get("target");

        Tensor h1 = Functional.conv2d(p.get("x"), p.get("w1"), p.get("b1"), 1, 1);
        Tensor p1 = Functional.maxPool2d(h1.relu(), 2);
        Tensor h2 = Functional.conv2d(p1, p.get("w2"), p.get("b2"), new int[] {1}, new int[] {1}, new int[] {1}, 2);
        Tensor p2 = Functional.avgPool2d(h2.gelu(), 2);
        Tensor logits = p2.reshape(2, 24).matmul(p.get("w3")).add(p.get("b3"));
        Tensor logp = Functional.logSoftmax(logits, 1);
        Tensor loss = Functional.gather(logp, 1, target.unsqueeze(1)).mean().neg();

        assertArrayEquals(FIX.get("loss").shape(), loss.shape());
        assertClose("h1", expected("h1"), h1, atol, rtol);
        assertClose("p1", expected("p1"), p1, atol, rtol);
        assertClose("h2", expected("h2"), h2, atol, rtol);
        assertClose("p2", expected("p2"), p2, atol, rtol);
        assertClose("logits", expected("logits"), logits, atol, rtol);
        assertClose("logp", expected("logp"), logp, atol, rtol);
        assertClose("loss", expected("loss"), loss, atol, rtol);

        loss.backward();
        for (String n : PARAMS) {
            Tensor g = p.get(n).grad();
            assertArrayEquals(FIX.get("grad." + n).shape(), g.shape(), "grad." + n + " shape");
            assertClose("grad." + n, expected("grad." + n), g, atol, rtol);
        }
    }
}
