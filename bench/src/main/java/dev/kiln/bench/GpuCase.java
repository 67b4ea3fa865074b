package dev.kiln.bench;

import java.util.Locale;

/**
 * One case of the GPU report: what Kiln runs and what the PyTorch peer runs (same shapes, same
 * precision), the work per call, and the target ratio (Kiln speed / peer speed).
 *
 * @param name   row label
 * @param kind   gemm_fp32, gemm_tf32, gemm_bf16, int8, conv_fp32, conv_tf32 or spmm
 * @param dims   m, n, k for products; n, c, h, w, oc, k, pad for convolutions; m, k, n for SpMM
 * @param ops    floating-point (or integer) operations per call, dense-equivalent for SpMM
 * @param target the ratio the issue asks for (NaN for none)
 */
record GpuCase(String name, String kind, int[] dims, double ops, double target) {
    static GpuCase gemm(String kind, int m, int n, int k, double target) {
        return new GpuCase(kind.replace('_', ' ') + " " + m + "x" + n + "x" + k, kind, new int[] {m, n, k}, 2.0 * m * n * k, target);
    }

    static GpuCase conv(String kind, int n, int c, int hw, int oc, int k, int pad, double target) {
        int oh = hw + 2 * pad - k + 1;
        return new GpuCase(kind.replace('_', ' ') + " b" + n + " " + c + "->" + oc + " " + hw + "x" + hw + " k" + k, kind,
                new int[] {n, c, hw, hw, oc, k, pad}, 2.0 * n * oc * oh * oh * c * k * k, target);
    }

    static GpuCase spmm(int m, int k, int n, double sparsity, double target) {
        return new GpuCase(String.format(Locale.ROOT, "csr spmm %dx%dx%d %.0f%%", m, k, n, sparsity * 100), "spmm",
                new int[] {m, k, n, (int) Math.round(sparsity * 100)}, 2.0 * m * k * n, target);
    }

    /** The case as the worker's JSON object. */
    String json(int reps, int rounds) {
        int[] d = dims;
        String shape = switch (kind) {
            case "conv_fp32", "conv_tf32" -> String.format(Locale.ROOT, "\"n\": %d, \"c\": %d, \"h\": %d, \"w\": %d, \"oc\": %d, \"k\": %d, \"pad\": %d",
                    d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
            case "spmm" -> String.format(Locale.ROOT, "\"m\": %d, \"k\": %d, \"n\": %d, \"sparsity\": %.2f", d[0], d[1], d[2], d[3] / 100.0);
            default -> String.format(Locale.ROOT, "\"m\": %d, \"n\": %d, \"k\": %d", d[0], d[1], d[2]);
        };
        return String.format(Locale.ROOT, "{\"name\": %s, \"kind\": \"%s\", %s, \"reps\": %d, \"rounds\": %d}",
                Json.quote(name), kind, shape, reps, rounds);
    }
}
