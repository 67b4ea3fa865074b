package dev.kiln.kernels;

/** Elementwise functions of two arguments, as applied by the binary kernels. */
public enum BinaryOp {
    /** a + b */
    ADD,
    /** a - b */
    SUB,
    /** a * b */
    MUL,
    /** a / b */
    DIV,
    /** max(a, b) */
    MAX,
    /** min(a, b) */
    MIN,
    /** a ^ b */
    POW
}
