package dev.kiln.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;

/** Small helpers shared by the optimizer tests. */
final class OptimTesting {
    private OptimTesting() {
    }

    /** A parameter holding {@code values} in {@code dtype} with the given shape. */
    static Parameter param(DType dtype, double[] values, int... shape) {
        return new Parameter(Tensors.of(values, shape).to(dtype));
    }

    /** Sets the gradient of {@code p} to {@code values} (in the parameter's dtype). */
    static void grad(Parameter p, double... values) {
        p.get().setGrad(Tensors.of(values, p.get().shape()).to(p.get().dtype()));
    }

    /** Fails unless every element of {@code actual} is within {@code tol} of {@code expected}, naming the first miss. */
    static void assertClose(String what, double[] expected, Tensor actual, double tol) {
        assertClose(what, expected, actual.toDoubleArray(), tol);
    }

    static void assertClose(String what, double[] expected, double[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (Double.isNaN(d) || d > worst) {
                worst = d;
                at = i;
                if (Double.isNaN(d)) {
                    break;
                }
            }
        }
        if (!(worst <= tol)) {
            fail(what + ": max |difference| " + worst + " > " + tol + " at index " + at + " (expected " + expected[at]
                    + ", got " + actual[at] + ")");
        }
    }

    /** How a test parameter is stored: each one takes a different update path. */
    enum Layout {
        /** F64: the path built from engine ops. */
        F64(1e-12),
        /** Contiguous F32: the fused loop. */
        F32(1e-6),
        /** A transposed (non-contiguous) F32 view: the engine-op path in F32. */
        F32_STRIDED(1e-6);

        final double tol;

        Layout(double tol) {
            this.tol = tol;
        }

        /** A parameter of shape [rows, cols] holding {@code values} (row-major). */
        Parameter param(double[] values, int rows, int cols) {
            return switch (this) {
                case F64 -> new Parameter(Tensors.of(values.clone(), rows, cols));
                case F32 -> new Parameter(Tensors.of(values.clone(), rows, cols).to(DType.F32));
                case F32_STRIDED -> {
                    double[] tr = new double[values.length];
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            tr[c * rows + r] = values[r * cols + c];
                        }
                    }
                    Tensor view = Tensors.of(tr, cols, rows).to(DType.F32).t();
                    assertArrayEquals(new int[] {rows, cols}, view.shape());
                    yield new Parameter(view);
                }
            };
        }
    }
}
