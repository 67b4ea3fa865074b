package dev.kiln.engine;

/**
 * One recorded op on the autograd tape: its name, its inputs and the function that maps the
 * gradient of its output to the gradients of its inputs. The backward function is given when the
 * op's result is created ({@link Autograd#record}), so an op cannot exist without its gradient.
 */
public final class Node {
    /** Gradient function: gradient of the output in, gradients of the inputs out (null where none). */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    private final String op;
    private final Tensor[] inputs;
    private Backward backward;

    Node(String op, Tensor[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    /** Name of the op that made this node, e.g. {@code "matmul"}. */
    public String op() {
        return op;
    }

    Tensor[] inputs() {
        return inputs;
    }

    boolean isFreed() {
        return backward == null;
    }

    Tensor[] apply(Tensor grad) {
        if (backward == null) {
            throw new IllegalStateException("backward: the graph through '" + op
                    + "' was already freed by an earlier backward(); to go through it again, retain it the first time with "
                    + "backward(grad, true) (retainGraph)");
        }
        return backward.apply(grad);
    }

    /** Drops the backward function and with it the tensors it saved. */
    void free() {
        backward = null;
    }

    @Override
    public String toString() {
        return op + "Backward";
    }
}
