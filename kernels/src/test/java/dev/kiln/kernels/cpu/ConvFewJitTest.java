package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated direct-convolution tiles ({@link ConvFewJit}, AVX2 + FMA, 16 registers) against
 * plain {@link Math#fma} chains, bit for bit, nothing else written; {@link ConvFew} with and
 * without them, bit for bit; and the checks that keep bad arguments from the code. Skipped where
 * the code cannot run.
 */
class ConvFewJitTest {
    private final SplittableRandom rnd = new SplittableRandom(91);
    private boolean was;

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(ConvFewJit.SUPPORTED, "the generated conv tiles cannot run here");
        was = ConvFewJit.use(true);
    }

    @AfterEach
    void restore() {
        ConvFewJit.use(was);
    }

    @Test
    void tilesMatchFmaChains() {
        for (int rows = 1; rows <= 6; rows++) {
            for (int steps : new int[] {1, 5, 37}) {
                int span = ConvFewJit.span(rows);
                int tiles = 3;
                int[] tap = new int[steps + 2];
                for (int t = 0; t < tap.length; t++) {
                    tap[t] = rnd.nextInt(70); // any order, repeats allowed
                }
                int xOff = 5;
                int xStep = span + 3;
                float[] x = randomFloats(rnd, xOff + (tiles - 1) * xStep + 70 + span + 4);
                float[] w = randomFloats(rnd, 3 + rows * steps + 2);
                int ld = span + 7;
                int outStep = rows * ld + 2;
                float[] out = randomFloats(rnd, 4 + (tiles - 1) * outStep + (rows - 1) * ld + span + 3);
                float[] want = out.clone();
                for (int i = 0; i < tiles; i++) {
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < span; j++) {
                            float acc = 0f;
                            for (int t = 0; t < steps; t++) {
                                acc = Math.fma(x[xOff + i * xStep + tap[t] + j], w[3 + t * rows + r], acc);
                            }
                            want[4 + i * outStep + r * ld + j] = acc;
                        }
                    }
                }
                ConvFewJit.tiles(rows, w, 3, x, xOff, xStep, out, 4, outStep, ld, tap, steps, tiles);
                assertArrayEquals(want, out, rows + " rows, " + steps + " steps");
            }
        }
    }

    @Test
    void convFewGivesTheSameBitsWithAndWithoutTheCode() {
        ConvGeom[] geoms = {
                new ConvGeom(3, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1), // LeNet-5's first layer
                new ConvGeom(2, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1), // input gradient of 3 rows
                new ConvGeom(2, 16, 14, 14, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(2, 2, 9, 7, 5, 3, 3, 1, 1, 1, 0, 2, 1, 1), // dilation, 5 rows
                new ConvGeom(3, 6, 10, 10, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2), // groups: 3 and 2 rows
                new ConvGeom(1, 4, 5, 40, 2, 1, 7, 1, 1, 0, 3, 1, 1, 1),
                new ConvGeom(2, 5, 7, 7, 6, 3, 3, 1, 1, 2, 2, 1, 1, 1)};
        int saved = Parallel.threads();
        int ran = 0;
        try {
            for (ConvGeom g : geoms) {
                float[] x = randomFloats(rnd, (int) g.xSize());
                float[] w = randomFloats(rnd, (int) g.wSize());
                float[] bias = randomFloats(rnd, g.oc());
                float[] gy = randomFloats(rnd, (int) g.ySize());
                float[] held = randomFloats(rnd, (int) g.xSize());
                for (int t : new int[] {1, 2}) {
                    Parallel.setThreads(t);
                    if (ConvFew.suitsForward(g)) {
                        float[][] y = new float[2][(int) g.ySize()];
                        for (int on = 0; on < 2; on++) {
                            ConvFewJit.use(on == 1);
                            assertTrue(ConvFew.forward(y[on], x, w, bias, g), "ran " + g);
                        }
                        assertArrayEquals(y[0], y[1], "forward, " + t + " threads: " + g);
                        ran++;
                    }
                    if (ConvFew.suitsInput(g)) {
                        float[][] gx = {held.clone(), held.clone()};
                        for (int on = 0; on < 2; on++) {
                            ConvFewJit.use(on == 1);
                            assertTrue(ConvFew.backwardInput(true, gx[on], gy, w, g), "ran " + g);
                        }
                        assertArrayEquals(gx[0], gx[1], "input gradient, " + t + " threads: " + g);
                        ran++;
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
        assertTrue(ran >= 26, "forward and input gradient cases that ran: " + ran);
    }

    @Test
    void badArgumentsAreRefusedBeforeTheCall() {
        int rows = 2;
        int span = ConvFewJit.span(rows);
        int[] tap = {0, 4, 9};
        float[] w = new float[rows * 3];
        float[] x = new float[span + 9 + span];
        float[] out = new float[span + rows * span];
        ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 0, span, span, tap, 3, 2); // exactly fits
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 1, span, out, 0, span, span, tap, 3, 2));
        assertTrue(e.getMessage().contains("2 tiles of 2 x " + span) && e.getMessage().contains("x 1+" + span),
                e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 1, x, 0, span, out, 0, span, span, tap, 3, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 1, span, span, tap, 3, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 0, span, span, tap, 3, 3));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 0, span, span, new int[] {0, -1, 9}, 3, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 0, span, span, tap, 4, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(7, w, 0, x, 0, span, out, 0, span, span, tap, 3, 2));
        assertThrows(IllegalArgumentException.class,
                () -> ConvFewJit.tiles(rows, w, 0, x, 0, span, out, 0, span, span, tap, 0, 2));
    }
}
