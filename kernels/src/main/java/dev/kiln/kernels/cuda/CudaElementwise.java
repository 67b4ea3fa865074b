package dev.kiln.kernels.cuda;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.UnaryOp;

/**
 * Launches of the elementwise, reduction and softmax kernels (elementwise.cu, reduce.cu,
 * softmax.cu). Arguments are device addresses and dims; outputs first. The strided variants take
 * the int fields of a {@link StridedArg} (operand 0 the output). All launches are asynchronous on
 * the device's stream.
 */
public final class CudaElementwise {
    static final int THREADS = 256;

    private CudaElementwise() {
    }

    private static Launch grid(CudaDevice d, String module, String kernel, long n) {
        return Launch.of(d, module, kernel).grid(Launch.blocksFor(n, THREADS)).block(THREADS);
    }

    private static void count(String op, long n) {
        if (n < 0) {
            throw new IllegalArgumentException(op + ": expected n >= 0, got " + n);
        }
    }

    /** out[i] = op(x[i]) for i < n (contiguous). */
    public static void unary(CudaDevice d, UnaryOp op, long out, long x, long n) {
        count("unary", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_unary", n).i32(op.ordinal()).ptr(out).ptr(x).i64(n).run();
        }
    }

    /** out[i] = x[i]^p (p = 0.5 sqrt, -0.5 reciprocal sqrt). */
    public static void powScalar(CudaDevice d, long out, long x, float p, long n) {
        count("powScalar", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_pow_scalar", n).ptr(out).ptr(x).f32(p).i64(n).run();
        }
    }

    /** out = a op b over a 3-operand {@link StridedArg} (out may be a or b: in place). */
    public static void binary(CudaDevice d, BinaryOp op, long out, long a, long b, int[] strides, long n) {
        count("binary", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_binary", n).i32(op.ordinal()).ptr(out).ptr(a).ptr(b).struct(strides).i64(n).run();
        }
    }

    /** out (bytes 0/1) = a op b over a 3-operand {@link StridedArg}. */
    public static void compare(CudaDevice d, CompareOp op, long out, long a, long b, int[] strides, long n) {
        count("compare", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_compare", n).i32(op.ordinal()).ptr(out).ptr(a).ptr(b).struct(strides).i64(n).run();
        }
    }

    /** out = cond ? a : b over a 4-operand {@link StridedArg} (cond bytes). */
    public static void where(CudaDevice d, long out, long cond, long a, long b, int[] strides, long n) {
        count("where", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_where", n).ptr(out).ptr(cond).ptr(a).ptr(b).struct(strides).i64(n).run();
        }
    }

    /** out = x over a 2-operand {@link StridedArg}, elements of {@code elementBytes} = 1, 4 or 8 bytes. */
    public static void copy(CudaDevice d, int elementBytes, long out, long x, int[] strides, long n) {
        count("copy", n);
        String k = switch (elementBytes) {
            case 1 -> "kiln_copy1";
            case 4 -> "kiln_copy4";
            case 8 -> "kiln_copy8";
            default -> throw new IllegalArgumentException("copy: expected elements of 1, 4 or 8 bytes, got " + elementBytes);
        };
        if (n > 0) {
            grid(d, "elementwise", k, n).ptr(out).ptr(x).struct(strides).i64(n).run();
        }
    }

    /** out = v over a 1-operand {@link StridedArg} (fp32). */
    public static void fill(CudaDevice d, long out, float v, int[] strides, long n) {
        count("fill", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_fill", n).ptr(out).f32(v).struct(strides).i64(n).run();
        }
    }

    /** y[i] += alpha * x[i] (contiguous). */
    public static void axpy(CudaDevice d, long y, float alpha, long x, long n) {
        count("axpy", n);
        if (n > 0) {
            grid(d, "elementwise", "kiln_axpy", n).ptr(y).f32(alpha).ptr(x).i64(n).run();
        }
    }

    /** Contiguous conversions: "i64_to_f32", "i32_to_i64", "u8_to_f32". */
    public static void convert(CudaDevice d, String kind, long out, long x, long n) {
        count("convert", n);
        if (!kind.equals("i64_to_f32") && !kind.equals("i32_to_i64") && !kind.equals("u8_to_f32")) {
            throw new IllegalArgumentException("convert: expected i64_to_f32, i32_to_i64 or u8_to_f32, got " + kind);
        }
        if (n > 0) {
            grid(d, "elementwise", "kiln_" + kind, n).ptr(out).ptr(x).i64(n).run();
        }
    }

    /**
     * Reduces dim 1 of a contiguous [outer, n, inner] x to [outer, inner]: kind 0 sum, 1 max, 2 min
     * (into out), 3 argmax, 4 argmin (int64 into idx).
     */
    public static void reduce(CudaDevice d, int kind, long out, long idx, long x, int outer, int n, int inner) {
        if (kind < 0 || kind > 4) {
            throw new IllegalArgumentException("reduce: expected kind 0..4 (sum, max, min, argmax, argmin), got " + kind);
        }
        if (outer < 0 || n < 1 || inner < 0) {
            throw new IllegalArgumentException("reduce: expected outer, inner >= 0 and n >= 1, got " + outer + ", " + n + ", " + inner);
        }
        if ((long) outer * inner == 0) {
            return;
        }
        if (inner == 1) {
            Launch.of(d, "reduce", "kiln_reduce_rows").grid(Math.min(outer, 65535)).block(THREADS)
                    .i32(kind).ptr(out).ptr(idx).ptr(x).i32(outer).i32(n).run();
        } else {
            grid(d, "reduce", "kiln_reduce_cols", (long) outer * inner).i32(kind).ptr(out).ptr(idx).ptr(x)
                    .i32(outer).i32(n).i32(inner).run();
        }
    }

    /** (log-)softmax over dim 1 of a contiguous [outer, n, inner] tensor. */
    public static void softmax(CudaDevice d, long y, long x, int outer, int n, int inner, boolean log) {
        if ((long) outer * n * inner == 0) {
            return;
        }
        if (inner == 1) {
            Launch.of(d, "softmax", "kiln_softmax_rows").grid(Math.min(outer, 65535)).block(THREADS)
                    .ptr(y).ptr(x).i32(outer).i32(n).i32(log ? 1 : 0).run();
        } else {
            grid(d, "softmax", "kiln_softmax_cols", (long) outer * inner).ptr(y).ptr(x).i32(outer).i32(n).i32(inner)
                    .i32(log ? 1 : 0).run();
        }
    }

    /** Gradient of (log-)softmax from its output y and the output gradient gy. */
    public static void softmaxBackward(CudaDevice d, long gx, long y, long gy, int outer, int n, int inner, boolean log) {
        if ((long) outer * n * inner == 0) {
            return;
        }
        if (inner == 1) {
            Launch.of(d, "softmax", "kiln_softmax_bwd_rows").grid(Math.min(outer, 65535)).block(THREADS)
                    .ptr(gx).ptr(y).ptr(gy).i32(outer).i32(n).i32(log ? 1 : 0).run();
        } else {
            grid(d, "softmax", "kiln_softmax_bwd_cols", (long) outer * inner).ptr(gx).ptr(y).ptr(gy).i32(outer).i32(n)
                    .i32(inner).i32(log ? 1 : 0).run();
        }
    }

    /** loss[r] = logsumexp(x[r]) - x[r, label[r]], lse[r] = logsumexp(x[r]); x [rows, c], labels int64. */
    public static void crossEntropy(CudaDevice d, long loss, long lse, long x, long labels, int rows, int c) {
        if (rows > 0) {
            Launch.of(d, "softmax", "kiln_xent_fwd").grid(Math.min(rows, 65535)).block(THREADS)
                    .ptr(loss).ptr(lse).ptr(x).ptr(labels).i32(rows).i32(c).run();
        }
    }

    /** gx[r, j] = (softmax(x)[r, j] - (j == label[r])) * gloss[r]. */
    public static void crossEntropyBackward(CudaDevice d, long gx, long x, long lse, long labels, long gloss, int rows, int c) {
        long n = (long) rows * c;
        if (n > 0) {
            grid(d, "softmax", "kiln_xent_bwd", n).ptr(gx).ptr(x).ptr(lse).ptr(labels).ptr(gloss).i32(rows).i32(c).run();
        }
    }
}
