package dev.kiln.nn;

import java.util.Arrays;
import java.util.Map;

/** The readable tree printed by {@link Module#toString()}: one line per module, shapes and counts. */
final class ModuleSummary {
    private ModuleSummary() {
    }

    static String format(Module root) {
        StringBuilder sb = new StringBuilder();
        line(sb, "", root, 0);
        sb.append(String.format(java.util.Locale.ROOT, "parameters: %,d (trainable %,d)",
                root.parameterCount(false), root.parameterCount(true)));
        return sb.toString();
    }

    private static void line(StringBuilder sb, String name, Module m, int depth) {
        sb.append("  ".repeat(depth));
        if (!name.isEmpty()) {
            sb.append('(').append(name).append(") ");
        }
        sb.append(m.describe());
        long own = 0;
        StringBuilder shapes = new StringBuilder();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            if (!e.getKey().contains(".")) {
                own += e.getValue().numel();
                shapes.append(' ').append(e.getKey()).append(Arrays.toString(e.getValue().get().shape()));
            }
        }
        if (own > 0) {
            sb.append("  ").append(shapes.toString().trim()).append(String.format(java.util.Locale.ROOT, "  %,d params", own));
        }
        sb.append('\n');
        m.children().forEach((n, c) -> line(sb, n, c, depth + 1));
    }
}
