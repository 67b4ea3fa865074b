package dev.kiln.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain text table: a header row and data rows, columns padded to their widest cell. */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();

    TextTable(String... header) {
        rows.add(header);
    }

    /** Adds a row (as many cells as the header). */
    TextTable row(String... cells) {
        if (cells.length != rows.getFirst().length) {
            throw new IllegalArgumentException("TextTable: expected " + rows.getFirst().length + " cells, got " + cells.length);
        }
        rows.add(cells);
        return this;
    }

    /** The table, first column left-aligned and the others right-aligned, two spaces apart. */
    String render() {
        int cols = rows.getFirst().length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < cols; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                String pad = " ".repeat(width[c] - r[c].length());
                line.append(c == 0 ? r[c] + pad : "  " + pad + r[c]);
            }
            sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
