package dev.kiln.bench;

import java.util.List;
import java.util.Locale;

/** Text and JSON renderings of the report's rows. */
final class Table {
    private static final String HEADER = String.format(Locale.ROOT, "%-7s %-40s %3s %10s %7s %10s %8s %10s %8s %8s %10s",
            "group", "case", "thr", "Kiln", "%peak", "OpenBLAS", "ratio", "PyTorch", "ratio", "vs base", "alloc/call");

    private Table() {
    }

    static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.2fx", a / b);
    }

    static String line(Report.Row r) {
        String pct = Double.isNaN(r.peak()) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.kiln() / r.peak());
        String base = Double.isNaN(r.base()) ? "-" : String.format(Locale.ROOT, "%.2fx", r.base());
        return String.format(Locale.ROOT, "%-7s %-40s %3d %10s %7s %10s %8s %10s %8s %8s %10s", r.group(), r.name(), r.threads(),
                num(r.kiln()), pct, num(r.blas()), ratio(r.kiln(), r.blas()), num(r.torch()), ratio(r.kiln(), r.torch()), base,
                bytes(r.bytesPerCall()));
    }

    /** A byte count the way people read one: 0 B, 312 B, 4.1 KB, 2.3 MB. */
    static String bytes(double b) {
        if (Double.isNaN(b)) {
            return "-";
        }
        if (b < 1000) {
            return String.format(Locale.ROOT, "%.0f B", b);
        }
        return b < 1e6 ? String.format(Locale.ROOT, "%.1f KB", b / 1e3) : String.format(Locale.ROOT, "%.1f MB", b / 1e6);
    }

    static String format(List<Report.Row> rows) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        sb.append("(rates in GFLOP/s, int8 in GOP/s, sparse in dense-equivalent GFLOP/s, ops in GB/s of their tensors (%peak: of an\n"
                + " in-place a += s*b pass over arrays of the same total size); ratio = Kiln / peer, above 1 means\n"
                + " Kiln is faster; vs base = Kiln / Kiln's baseline case: int8 / fp32, sparse / dense; alloc/call = heap bytes one Kiln call allocates,\n"
                + " all threads, after the rounds: kernels on caller-owned arrays should be ~0, engine cases allocate their outputs)\n");
        for (Report.Row r : rows) {
            sb.append(line(r)).append('\n');
        }
        return sb.toString();
    }

    /** The report's JSON: the rows, and the scaling rows ({@link Scaling#json}) where measured, else null. */
    static String json(List<Report.Row> rows, String blasCore, String torchVersion, String scaling) {
        StringBuilder sb = new StringBuilder("{\n  \"openblas_core\": ").append(Json.quote(blasCore));
        sb.append(",\n  \"torch\": ").append(torchVersion == null ? "null" : Json.quote(torchVersion));
        sb.append(",\n  \"cpus\": ").append(Runtime.getRuntime().availableProcessors());
        sb.append(",\n  \"rows\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Report.Row r = rows.get(i);
            sb.append(String.format(Locale.ROOT,
                    "    {\"group\": %s, \"case\": %s, \"threads\": %d, \"unit\": %s, \"kiln\": %s, \"openblas\": %s, \"torch\": %s, \"peak\": %s, "
                            + "\"baseline\": %s, \"vs_baseline\": %s, \"bytes_per_call\": %s}",
                    Json.quote(r.group()), Json.quote(r.name()), r.threads(), Json.quote(r.unit()), js(r.kiln()), js(r.blas()),
                    js(r.torch()), js(r.peak()), r.baseline() == null ? "null" : Json.quote(r.baseline()), js(r.base()),
                    js(r.bytesPerCall())));
            sb.append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        sb.append("  ]");
        if (scaling != null) {
            sb.append(",\n  \"scaling\": ").append(scaling);
        }
        return sb.append("\n}\n").toString();
    }

    static String js(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.3f", v);
    }
}
