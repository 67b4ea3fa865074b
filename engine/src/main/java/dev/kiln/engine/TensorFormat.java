package dev.kiln.engine;

/** Readable text of a tensor: a header line, then values (summarized with ... when large). */
final class TensorFormat {
    private static final int EDGE = 3;
    private static final int FULL = 64;

    private TensorFormat() {
    }

    static String format(Tensor t) {
        StringBuilder sb = new StringBuilder();
        sb.append("Tensor").append(Shape.str(t.shapeRef())).append(' ').append(t.dtype()).append(' ').append(t.device());
        if (t.gradFn() != null) {
            sb.append(" grad_fn=").append(t.gradFn());
        } else if (t.requiresGrad()) {
            sb.append(" requires_grad");
        }
        if (!(t.storage() instanceof HeapStorage)) {
            t = t.detach().to(Device.CPU);
        }
        sb.append('\n');
        boolean summarize = t.numel() > FULL;
        int[] idx = new int[t.rank()];
        append(sb, t, idx, 0, summarize);
        return sb.toString();
    }

    private static void append(StringBuilder sb, Tensor t, int[] idx, int dim, boolean summarize) {
        if (dim == t.rank()) {
            double v = t.getDouble(idx);
            sb.append(t.dtype().isFloating() ? String.format(java.util.Locale.ROOT, "%.4g", v) : Long.toString((long) v));
            return;
        }
        int n = t.shapeRef()[dim];
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (summarize && n > 2 * EDGE && i == EDGE) {
                sb.append("..., ");
                i = n - EDGE;
            }
            idx[dim] = i;
            append(sb, t, idx, dim + 1, summarize);
            if (i < n - 1) {
                sb.append(dim == t.rank() - 1 ? ", " : ",\n" + " ".repeat(dim + 1));
            }
        }
        sb.append(']');
    }
}
