package dev.kiln.engine;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.UnaryOp;

/**
 * The compute primitives a device provides. Ops (and their gradients) are written once against
 * this interface, so adding a device never changes autograd. Inputs may be any views (strided,
 * broadcast); results are new contiguous tensors on the same device. Callers have already checked
 * shapes, dtypes and devices; a backend only rejects what it cannot do (e.g. a dtype it lacks).
 */
public interface Backend {
    /** The device this backend computes on. */
    Device device();

    /** A new zero-filled contiguous tensor. */
    Tensor zeros(DType dtype, int[] shape);

    /** A new contiguous tensor holding {@code data} (a Java array of the dtype's type), copied. */
    Tensor fromArray(DType dtype, int[] shape, Object data);

    /** A contiguous copy of {@code x}. */
    Tensor contiguous(Tensor x);

    /** dst[...] = src broadcast to dst's shape and converted to dst's dtype (dst may be a view). */
    void copy(Tensor dst, Tensor src);

    /** dst[...] = v. */
    void fill(Tensor dst, double v);

    /** dst op= src (src broadcast to dst), in place. */
    void binaryInPlace(BinaryOp op, Tensor dst, Tensor src);

    /** dst += alpha * src (same shape), in place. */
    void axpy(Tensor dst, double alpha, Tensor src);

    Tensor unary(UnaryOp op, Tensor x);

    Tensor powScalar(Tensor x, double p);

    /** a op b with broadcasting; same floating dtype. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** a op b with broadcasting; BOOL result. */
    Tensor compare(CompareOp op, Tensor a, Tensor b);

    /** cond ? a : b with broadcasting. */
    Tensor where(Tensor cond, Tensor a, Tensor b);

    /** Reduction kinds of {@link #reduce}. */
    enum Reduction { SUM, MAX, MIN, ARGMAX, ARGMIN }

    /** Reduces one dim, keeping it with size 1; ARGMAX/ARGMIN give I64. */
    Tensor reduce(Reduction r, Tensor x, int dim);

    /**
     * Batched matrix product of 3-D tensors [batch or 1, m, k] x [batch or 1, k, n] (transposed
     * operands given as [.., k, m] / [.., n, k] with the flags set); batch 1 broadcasts.
     */
    Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB);

    /**
     * {@code act(op(a) op(b) + bias)} for 2-D {@code a [m, k]} and {@code b [k, n]} (given as
     * {@code [k, m]} / {@code [n, k]} with the flags set) and {@code bias [n]} added to every row;
     * {@code act} is ReLU when {@code relu}, else the identity: a Linear layer's forward. Must give
     * the values of {@link #matmul}, then {@link #binary} ADD, then {@link #unary} RELU; the default
     * does exactly that, a backend may fuse them.
     */
    default Tensor matmulBias(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean relu) {
        Tensor p = matmul(a.unsqueeze(0), transA, b.unsqueeze(0), transB);
        Tensor y = binary(BinaryOp.ADD, p.reshape(p.size(1), p.size(2)), bias);
        return relu ? unary(UnaryOp.RELU, y) : y;
    }

    /**
     * Adds {@code op(a) op(b)} into the 2-D {@code c [m, n]} in place ({@code a [m, k]}, {@code b [k, n]}, given as
     * {@code [k, m]} / {@code [n, k]} with the flags set), as one fused product, and returns true; returns false
     * and leaves {@code c} untouched where this backend cannot (the caller then computes the product and adds
     * it). Used by backward passes to add a gradient straight into a leaf's existing {@code .grad}. The
     * default cannot.
     */
    default boolean matmulAccumulate(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB) {
        return false;
    }

    /**
     * The gradient through a ReLU from its output: {@code y > 0 ? gy : 0} (same shapes). The
     * default composes {@link #compare} and {@link #where}; a backend may fuse them.
     */
    default Tensor reluBackward(Tensor y, Tensor gy) {
        return where(compare(CompareOp.GT, y, zeros(y.dtype(), new int[0])), gy, zeros(gy.dtype(), new int[0]));
    }

    /**
     * The ReLU of {@code y}, a tensor the calling op has just made and nothing else holds yet (a
     * convolution's output): in place where the backend can (then {@code y} itself is returned),
     * else a new tensor. The default allocates ({@link #unary}).
     */
    default Tensor reluOwned(Tensor y) {
        return unary(UnaryOp.RELU, y);
    }

    /** (log-)softmax over {@code dim}. */
    Tensor softmax(Tensor x, int dim, boolean log);

    /** Gradient of (log-)softmax given its output y and the output gradient. */
    Tensor softmaxBackward(Tensor y, Tensor gy, int dim, boolean log);

    Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeom g);

    Tensor conv2dBackwardInput(Tensor gy, Tensor w, ConvGeom g);

    /**
     * Adds the input gradient of a convolution ({@link #conv2dBackwardInput}) into {@code gx} in place
     * and returns true; returns false and leaves {@code gx} untouched where this backend cannot (the
     * caller then computes the gradient and adds it). Used to add it straight into a leaf's existing
     * {@code .grad}. The default cannot.
     */
    default boolean conv2dBackwardInputAccumulate(Tensor gx, Tensor gy, Tensor w, ConvGeom g) {
        return false;
    }

    /** {gradWeight, gradBias (null unless withBias)}. */
    Tensor[] conv2dBackwardWeight(Tensor x, Tensor gy, ConvGeom g, boolean withBias);

    /**
     * Batch normalization of {@code x [N, C, ...]} as one fused pass, or null where this backend has
     * none (the caller then composes it from reductions and elementwise ops). With {@code mean} and
     * {@code var} null it uses the batch's statistics and returns {y, mean [C], invstd [C], biased var
     * [C]}; given {@code mean} and {@code var} [C] (running statistics) it returns {y, mean, invstd}.
     * {@code invstd = 1/sqrt(var + eps)}; {@code weight} and {@code bias} [C] may be null. All of one
     * dtype. The default has none.
     */
    default Tensor[] batchNorm(Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, double eps) {
        return null;
    }

    /**
     * Gradients of {@link #batchNorm} from the mean and invstd it returned: {gx, gWeight, gBias}, each
     * null unless asked for ({@code needs} = {x, weight, bias}); {@code batchStats} when the statistics
     * were the batch's own (they then depend on x). Null where {@link #batchNorm} is.
     */
    default Tensor[] batchNormBackward(Tensor gy, Tensor x, Tensor mean, Tensor invstd, Tensor weight, boolean batchStats,
                                       boolean[] needs) {
        return null;
    }

    /**
     * {@link #batchNorm} with a ReLU on y in the same pass ({@code y < 0 ? 0 : y}, NaN kept), or null
     * where this backend has no such kernel for these arguments (the caller then runs the ReLU as its
     * own op). Returns as {@link #batchNorm}. The default has none.
     */
    default Tensor[] batchNormRelu(Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, double eps) {
        return null;
    }

    /**
     * Gradients of {@link #batchNormRelu} given its output {@code y}: {@link #batchNormBackward} of
     * {@code y > 0 ? gy : 0}. Null where {@link #batchNormRelu} is.
     */
    default Tensor[] batchNormReluBackward(Tensor gy, Tensor y, Tensor x, Tensor mean, Tensor invstd, Tensor weight,
                                           boolean batchStats, boolean[] needs) {
        return null;
    }

    /** Pooling window geometry over a [N, C, H, W] input. */
    record PoolGeom(int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
    }

    /** {values [N,C,OH,OW], argmax indices (I32, flat within each plane)}. */
    Tensor[] maxPool2d(Tensor x, PoolGeom g);

    Tensor maxPool2dBackward(Tensor gy, Tensor argmax, int[] inputShape);

    Tensor avgPool2d(Tensor x, PoolGeom g, boolean countIncludePad);

    Tensor avgPool2dBackward(Tensor gy, int[] inputShape, PoolGeom g, boolean countIncludePad);

    Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow);

    Tensor adaptiveAvgPool2dBackward(Tensor gy, int[] inputShape);

    /** out[..., i, ...] = x[..., index[i], ...] along dim (index I64/I32, 1-D). */
    Tensor indexSelect(Tensor x, int dim, Tensor index);

    /** out (zeros of {@code shape}) with out[..., index[i], ...] += src[..., i, ...] along dim. */
    Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src);

    /** out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (index has x's rank). */
    Tensor gather(Tensor x, int dim, Tensor index);

    /** out (zeros of {@code shape}) with out[i][index[i][j][k]][k] += src[i][j][k] for dim 1. */
    Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src);
}
