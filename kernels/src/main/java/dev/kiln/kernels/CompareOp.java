package dev.kiln.kernels;

/** Elementwise comparisons; kernels write 1 where the comparison holds and 0 elsewhere. */
public enum CompareOp {
    /** a == b */
    EQ,
    /** a != b */
    NE,
    /** a < b */
    LT,
    /** a <= b */
    LE,
    /** a > b */
    GT,
    /** a >= b */
    GE
}
