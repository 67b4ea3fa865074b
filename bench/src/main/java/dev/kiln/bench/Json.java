package dev.kiln.bench;

/** Reads one field from a flat JSON object line (the worker's replies) and escapes strings for output. */
final class Json {
    private Json() {
    }

    static String stringField(String line, String key) {
        int at = line.indexOf("\"" + key + "\"");
        if (at < 0) {
            return "";
        }
        int q1 = line.indexOf('"', line.indexOf(':', at) + 1);
        int q2 = line.indexOf('"', q1 + 1);
        return q1 < 0 || q2 < 0 ? "" : line.substring(q1 + 1, q2);
    }

    static double numberField(String line, String key) {
        int at = line.indexOf("\"" + key + "\"");
        if (at < 0) {
            throw new IllegalArgumentException("expected a \"" + key + "\" field, got " + line);
        }
        int s = line.indexOf(':', at) + 1;
        while (s < line.length() && line.charAt(s) == ' ') {
            s++;
        }
        int e = s;
        while (e < line.length() && ",} ".indexOf(line.charAt(e)) < 0) {
            e++;
        }
        return Double.parseDouble(line.substring(s, e));
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
