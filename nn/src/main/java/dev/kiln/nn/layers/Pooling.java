package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import java.util.Arrays;

/** Input checks shared by the pooling layers. */
final class Pooling {
    private Pooling() {
    }

    /** Requires {@code [N, C, H, W]} or {@code [C, H, W]} with H and W at least {@code minH x minW}. */
    static void checkInput(String description, Tensor x, int minH, int minW) {
        int r = x.rank();
        if ((r != 4 && r != 3) || x.size(-2) < minH || x.size(-1) < minW) {
            throw new IllegalArgumentException(description + ": expected input [N, C, H, W] or [C, H, W] with H >= " + minH + " and W >= "
                    + minW + ", got " + Arrays.toString(x.shape()));
        }
    }

    static void checkGeometry(String layer, int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException(layer + ": expected kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2, got kernel="
                    + kernel + " stride=" + stride + " padding=" + padding);
        }
    }

    static String describe(String name, int kernel, int stride, int padding) {
        return name + "(k=" + kernel + ", s=" + stride + (padding != 0 ? ", p=" + padding : "") + ")";
    }
}
