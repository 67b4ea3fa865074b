package dev.kiln.kernels;

/** Elementwise functions of one argument, as applied by the unary kernels. */
public enum UnaryOp {
    /** -x */
    NEG,
    /** e^x */
    EXP,
    /** ln x */
    LOG,
    /** sqrt x */
    SQRT,
    /** tanh x */
    TANH,
    /** 1 / (1 + e^-x) */
    SIGMOID,
    /** max(x, 0) */
    RELU,
    /** x * Phi(x), the exact (erf) form, as PyTorch's default */
    GELU,
    /** d/dx gelu(x) = Phi(x) + x * phi(x) */
    GELU_GRAD,
    /** |x| */
    ABS,
    /** x * x */
    SQUARE,
    /** 1 / x */
    RECIPROCAL,
    /** -1, 0 or 1 (0 for NaN-free zero) */
    SIGN
}
