package dev.kiln.nn.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.io.Safetensors;
import dev.kiln.nn.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Every loss variant against PyTorch 1.13 in F64: value and gradient with respect to the input, from
 * the fixture written by {@code tools/golden_nn_losses.py} (the same grid of cases as below).
 */
class GoldenLossesTest {
    private static final double TOL = 1e-10;
    private static final String[] REDUCTIONS = {"none", "mean", "sum"};

    /** One loss variant: its fixture name, the input it differentiates and the loss of that input. */
    private record Case(String name, String input, String vjp, UnaryOperator<Tensor> loss) {
    }

    private static Reduction reduction(String r) {
        return Reduction.valueOf(r.toUpperCase(java.util.Locale.ROOT));
    }

    private static List<Case> cases(Map<String, Tensor> in) {
        List<Case> out = new ArrayList<>();
        for (int w = 0; w <= 1; w++) {
            Tensor ceWeight = w == 1 ? in.get("in.ce.weight") : null;
            Tensor ce3Weight = w == 1 ? in.get("in.ce3.weight") : null;
            for (String ls : new String[] {"0", "0.1"}) {
                double eps = Double.parseDouble(ls);
                for (long ign : new long[] {-100, 2}) {
                    Tensor target = in.get(ign == -100 ? "in.ce.target" : "in.ce.target2");
                    for (String r : REDUCTIONS) {
                        out.add(new Case("ce.w" + w + ".ls" + ls + ".i" + ign + "." + r, "in.ce.logits", "in.v.6",
                                x -> Losses.crossEntropy(x, target, ceWeight, eps, ign, reduction(r))));
                    }
                }
                for (String r : REDUCTIONS) {
                    out.add(new Case("ce3.w" + w + ".ls" + ls + "." + r, "in.ce3.logits", "in.v.2x3",
                            x -> Losses.crossEntropy(x, in.get("in.ce3.target"), ce3Weight, eps, -100, reduction(r))));
                }
            }
            for (long ign : new long[] {-100, 2}) {
                Tensor target = in.get(ign == -100 ? "in.ce.target" : "in.ce.target2");
                for (String r : REDUCTIONS) {
                    out.add(new Case("nll.w" + w + ".i" + ign + "." + r, "in.nll.logp", "in.v.6",
                            x -> Losses.nll(x, target, ceWeight, ign, reduction(r))));
                }
            }
        }
        Tensor y = in.get("in.reg.y");
        for (String r : REDUCTIONS) {
            out.add(new Case("mse." + r, "in.reg.x", "in.v.4x3", x -> Losses.mse(x, y, reduction(r))));
            out.add(new Case("l1." + r, "in.reg.x", "in.v.4x3", x -> Losses.l1(x, y, reduction(r))));
            for (String beta : new String[] {"1", "0.5", "0"}) {
                out.add(new Case("smoothl1.b" + beta + "." + r, "in.reg.x", "in.v.4x3",
                        x -> Losses.smoothL1(x, y, Double.parseDouble(beta), reduction(r))));
            }
        }
        for (int w = 0; w <= 1; w++) {
            Tensor weight = w == 1 ? in.get("in.bce.weight") : null;
            for (int p = 0; p <= 1; p++) {
                Tensor posWeight = p == 1 ? in.get("in.bce.pos_weight") : null;
                for (String r : REDUCTIONS) {
                    out.add(new Case("bce.w" + w + ".p" + p + "." + r, "in.bce.logits", "in.v.4x3",
                            x -> Losses.bceWithLogits(x, in.get("in.bce.target"), weight, posWeight, reduction(r))));
                }
            }
        }
        for (int lt = 0; lt <= 1; lt++) {
            Tensor target = in.get(lt == 1 ? "in.kl.log_target" : "in.kl.target");
            boolean logTarget = lt == 1;
            for (String r : new String[] {"none", "mean", "sum", "batchmean"}) {
                out.add(new Case("kl.lt" + lt + "." + r, "in.kl.input", "in.v.4x5", x -> Losses.klDiv(x, target, reduction(r), logTarget)));
            }
        }
        return out;
    }

    private static void assertClose(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double diff = Math.abs(a[i] - e[i]);
            assertTrue(diff <= TOL * (1 + Math.abs(e[i])),
                    what + " element " + i + ": expected " + e[i] + " (PyTorch), got " + a[i] + ", difference " + diff);
        }
    }

    @Test
    void everyLossVariantMatchesPyTorch() throws Exception {
        Path fixture = Path.of(GoldenLossesTest.class.getResource("/golden/losses.safetensors").toURI());
        try (SafetensorsFile file = Safetensors.read(fixture)) {
            Map<String, Tensor> all = file.tensors();
            List<Case> cases = cases(all);
            assertEquals(file.metadata().get("cases"), Integer.toString(cases.size()), "cases in the fixture and here");
            TreeSet<String> fixtureCases = new TreeSet<>();
            all.keySet().stream().filter(k -> k.endsWith(".value")).forEach(k -> fixtureCases.add(k.substring(0, k.length() - 6)));
            TreeSet<String> ours = new TreeSet<>();
            cases.forEach(c -> ours.add(c.name()));
            assertEquals(fixtureCases, ours, "case names");
            for (Case c : cases) {
                Tensor x = all.get(c.input()).detach().requiresGrad(true);
                Tensor value = c.loss().apply(x);
                assertClose(c.name() + " value", all.get(c.name() + ".value"), value);
                (value.rank() == 0 ? value : value.mul(all.get(c.vjp())).sum()).backward();
                assertClose(c.name() + " gradient", all.get(c.name() + ".grad"), x.grad());
            }
        }
    }
}
