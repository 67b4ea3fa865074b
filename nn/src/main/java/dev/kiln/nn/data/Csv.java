package dev.kiln.nn.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Tabular data from a delimited text file (UTF-8): one sample per line, every column a number,
 * one column an integer class label; the other columns become the sample's features
 * ({@code [F]}, in file order). Fields may be double-quoted ({@code ""} inside quotes is a quote);
 * blank lines are skipped. Errors name the file, the line and the column (both counted from 1).
 *
 * <pre>{@code
 * InMemoryDataset iris = Csv.read(Path.of("iris.csv"), "species", true, ',');
 * InMemoryDataset rows = Csv.read(Path.of("data.tsv"), -1, false, '\t');  // label in the last column
 * }</pre>
 */
public final class Csv {
    private Csv() {
    }

    /** Reads a file with a header line, taking the label from the column named {@code labelColumn}. */
    public static InMemoryDataset read(Path file, String labelColumn, boolean hasHeader, char separator) throws IOException {
        if (!hasHeader) {
            throw new IllegalArgumentException("Csv.read: a label column given by name (\"" + labelColumn
                    + "\") needs a header line; pass its index instead");
        }
        return read(file, new LabelColumn(labelColumn, 0), true, separator);
    }

    /**
     * Reads a file, taking the label from column {@code labelColumn} (counted from 0; negative
     * counts from the end, -1 being the last).
     */
    public static InMemoryDataset read(Path file, int labelColumn, boolean hasHeader, char separator) throws IOException {
        return read(file, new LabelColumn(null, labelColumn), hasHeader, separator);
    }

    private record LabelColumn(String name, int index) {
    }

    private static InMemoryDataset read(Path file, LabelColumn label, boolean hasHeader, char separator) throws IOException {
        if (separator == '"' || separator == '\n' || separator == '\r') {
            throw new IllegalArgumentException("Csv.read: the separator cannot be " + describe(separator));
        }
        String src = file.toString();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<String> header = null;
            int columns = -1;
            int labelAt = -1;
            float[] data = new float[1024];
            long[] labels = new long[64];
            int rows = 0;
            int lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                List<String> fields = split(line, separator, src, lineNo);
                if (columns < 0) {
                    columns = fields.size();
                    labelAt = labelIndex(label, fields, hasHeader, src);
                    if (columns < 2) {
                        throw new MalformedDataException(src, "line " + lineNo + ": expected at least 2 columns (features and a label)"
                                + " separated by " + describe(separator) + ", got 1");
                    }
                    if (hasHeader) {
                        header = fields;
                        continue;
                    }
                } else if (fields.size() != columns) {
                    throw new MalformedDataException(src, "line " + lineNo + ": expected " + columns + " columns"
                            + (hasHeader ? " (as in the header)" : " (as in the first line)") + ", got " + fields.size());
                }
                int f = columns - 1;
                if ((long) (rows + 1) * f > data.length) {
                    data = Arrays.copyOf(data, Math.toIntExact(Math.max((long) (rows + 1) * f, 2L * data.length)));
                }
                if (rows == labels.length) {
                    labels = Arrays.copyOf(labels, 2 * rows);
                }
                int k = rows * f;
                for (int c = 0; c < columns; c++) {
                    String v = fields.get(c);
                    if (c == labelAt) {
                        labels[rows] = parseLabel(v, src, lineNo, c, header);
                    } else {
                        data[k++] = parseFloat(v, src, lineNo, c, header);
                    }
                }
                rows++;
            }
            if (rows == 0) {
                throw new MalformedDataException(src, "no data rows" + (hasHeader ? " after the header" : ""));
            }
            int f = columns - 1;
            return InMemoryDataset.adopt(Arrays.copyOf(data, rows * f), new int[] {f}, Arrays.copyOf(labels, rows));
        }
    }

    private static int labelIndex(LabelColumn label, List<String> first, boolean hasHeader, String src) throws IOException {
        int n = first.size();
        if (label.name() != null) {
            int at = first.indexOf(label.name());
            if (at < 0) {
                throw new MalformedDataException(src, "no column named \"" + label.name() + "\" in the header " + first);
            }
            return at;
        }
        int at = label.index() < 0 ? n + label.index() : label.index();
        if (at < 0 || at >= n) {
            throw new MalformedDataException(src, "label column " + label.index() + " is outside the " + n + " columns of line 1"
                    + (hasHeader ? " " + first : ""));
        }
        return at;
    }

    private static float parseFloat(String v, String src, int line, int col, List<String> header) throws IOException {
        Float x = number(v);
        if (x == null) {
            throw new MalformedDataException(src, "line " + line + ", column " + column(col, header)
                    + ": expected a number, got " + (v.isEmpty() ? "an empty value" : "\"" + v + "\""));
        }
        return x;
    }

    /** A decimal number, or nan / inf / infinity in any case and sign; null for anything else (Java's 1f, 2d too). */
    private static Float number(String v) {
        String t = v.toLowerCase(Locale.ROOT);
        return switch (t) {
            case "nan" -> Float.NaN;
            case "inf", "+inf", "infinity", "+infinity" -> Float.POSITIVE_INFINITY;
            case "-inf", "-infinity" -> Float.NEGATIVE_INFINITY;
            default -> {
                if (t.isEmpty() || !(Character.isDigit(t.charAt(t.length() - 1)) || t.endsWith("."))) {
                    yield null;
                }
                try {
                    yield Float.parseFloat(v);
                } catch (NumberFormatException e) {
                    yield null;
                }
            }
        };
    }

    private static long parseLabel(String v, String src, int line, int col, List<String> header) throws IOException {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new MalformedDataException(src, "line " + line + ", column " + column(col, header)
                    + ": expected an integer class label, got " + (v.isEmpty() ? "an empty value" : "\"" + v + "\""));
        }
    }

    private static String column(int col, List<String> header) {
        return (col + 1) + (header == null ? "" : " (\"" + header.get(col) + "\")");
    }

    /** The fields of one line, trimmed, with double quotes removed. */
    private static List<String> split(String line, char sep, String src, int lineNo) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == sep) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (quoted) {
            throw new MalformedDataException(src, "line " + lineNo + ": unbalanced double quote (fields cannot span lines)");
        }
        out.add(cur.toString().strip());
        return out;
    }

    private static String describe(char c) {
        return switch (c) {
            case '\t' -> "a tab";
            case '\n' -> "a line feed";
            case '\r' -> "a carriage return";
            default -> "'" + c + "'";
        };
    }
}
