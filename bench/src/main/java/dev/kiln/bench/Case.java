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
 */
record Case(String group, String name, double ops, String unit, Runnable kiln, BlasFactory blas, String torchOp,
            Map<String, Object> torchArgs, String baseline) {

    /** A case without a baseline. */
    Case(String group, String name, double ops, String unit, Runnable kiln, BlasFactory blas, String torchOp,
         Map<String, Object> torchArgs) {
        this(group, name, ops, unit, kiln, blas, torchOp, torchArgs, null);
    }

    /** Makes an OpenBLAS runner (allocating its off-heap buffers) for this case. */
    @FunctionalInterface
    interface BlasFactory {
        OpenBlasPeer create();
    }
}
