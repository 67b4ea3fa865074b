package dev.kiln.bench;

import java.util.Map;

/**
 * One benchmark case: a name, its work per call (floating-point or integer operations), how to
 * run Kiln on it, and how to ask each peer for the same work (null where a peer has no
 * counterpart).
 *
 * @param group     family for filtering ("sgemm", "linear", "conv", ...)
 * @param name      readable shape, e.g. "1024x1024x1024"
 * @param ops       operations per call (2*m*n*k for a GEMM)
 * @param unit      "GFLOP/s" or "GOP/s"
 * @param kiln      one call of Kiln's implementation
 * @param blas      factory of OpenBLAS's implementation, or null
 * @param torchOp   the torch worker's op name, or null
 * @param torchArgs the torch worker's parameters
 * @param baseline  name of the case (in the same group, run before this one) whose Kiln rate this
 *                  one's is divided by in the "vs base" column, or null (e.g. sparse vs dense)
 * @param footprint for a memory-bound case (unit "GB/s", {@code ops} = bytes moved per call): the
 *                  bytes of the distinct arrays it touches, which sizes the streaming reference
 *                  its "% peak" divides by; NaN otherwise
 */
record Case(String group, String name, double ops, String unit, Runnable kiln, BlasFactory blas, String torchOp,
            Map<String, Object> torchArgs, String baseline, double footprint) {

    /** A compute-bound case with a baseline. */
    Case(String group, String name, double ops, String unit, Runnable kiln, BlasFactory blas, String torchOp,
         Map<String, Object> torchArgs, String baseline) {
        this(group, name, ops, unit, kiln, blas, torchOp, torchArgs, baseline, Double.NaN);
    }

    /** A compute-bound case without a baseline. */
    Case(String group, String name, double ops, String unit, Runnable kiln, BlasFactory blas, String torchOp,
         Map<String, Object> torchArgs) {
        this(group, name, ops, unit, kiln, blas, torchOp, torchArgs, null, Double.NaN);
    }

    /**
     * A memory-bound case: {@code bytes} moved per call, in GB/s, over arrays of {@code footprint}
     * bytes, with a PyTorch counterpart only.
     */
    static Case memory(String group, String name, double bytes, double footprint, Runnable kiln, String torchOp,
                       Map<String, Object> torchArgs) {
        return new Case(group, name, bytes, "GB/s", kiln, null, torchOp, torchArgs, null, footprint);
    }

    /** Makes an OpenBLAS runner (allocating its off-heap buffers) for this case. */
    @FunctionalInterface
    interface BlasFactory {
        OpenBlasPeer create();
    }
}
