package dev.kiln.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The define-by-run tape: how ops record themselves and how {@code backward} walks the graph. */
public final class Autograd {
    private Autograd() {
    }

    /**
     * Records {@code out} as the result of {@code op} over {@code inputs} when recording is on and
     * some input requires a gradient. Returns {@code out}.
     */
    public static Tensor record(String op, Tensor out, Node.Backward backward, Tensor... inputs) {
        if (!Grad.isEnabled()) {
            return out;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                out.attach(new Node(op, inputs.clone(), backward));
                return out;
            }
        }
        return out;
    }

    /** Backpropagates from {@code root} (see {@link Tensor#backward(Tensor, boolean)}). */
    static void backward(Tensor root, Tensor grad, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor " + Shape.str(root.shape())
                    + " does not require grad (no input of the ops that made it had requiresGrad set)");
        }
        if (grad == null) {
            if (root.numel() != 1) {
                throw new IllegalArgumentException("backward: expected a scalar (one element) output or an explicit gradient, got shape "
                        + Shape.str(root.shape()));
            }
            grad = Tensors.onesLike(root);
        } else if (!Arrays.equals(grad.shape(), root.shape()) || grad.dtype() != root.dtype()) {
            throw new IllegalArgumentException("backward: expected a gradient of shape " + Shape.str(root.shape()) + " " + root.dtype()
                    + ", got " + Shape.str(grad.shape()) + " " + grad.dtype());
        }
        if (root.gradFn() == null) {
            accumulateLeaf(root, grad);
            return;
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, grad.detach());
        try (var ng = Grad.disabled()) {
            for (Tensor t : order) {
                Tensor g = grads.remove(t);
                if (g == null) {
                    continue;
                }
                Node node = t.gradFn();
                Tensor[] inputs = node.inputs();
                Tensor[] gi = node.apply(g);
                if (!retainGraph) {
                    node.free();
                }
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    if (in == null || !in.requiresGrad() || i >= gi.length || gi[i] == null) {
                        continue;
                    }
                    Tensor gin = gi[i];
                    if (!Arrays.equals(gin.shape(), in.shape())) {
                        throw new IllegalStateException("backward of '" + node.op() + "': gradient for input " + i + " has shape "
                                + Shape.str(gin.shape()) + ", expected " + Shape.str(in.shape()));
                    }
                    if (in.gradFn() == null) {
                        if (in.grad() == null && gin.dtype() == in.dtype() && owned(gin, i, gi, g, inputs)) {
                            in.setGrad(gin.detach());
                        } else {
                            accumulateLeaf(in, gin);
                        }
                    } else {
                        Tensor prev = grads.get(in);
                        grads.put(in, prev == null ? gin : prev.add(gin));
                    }
                }
            }
        }
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g) {
        try (var ng = Grad.disabled()) {
            Tensor cur = leaf.grad();
            if (cur == null) {
                leaf.setGrad(g.dtype() == leaf.dtype() ? g.copy() : g.to(leaf.dtype()));
            } else {
                cur.addInPlace(g);
            }
        }
    }

    /**
     * The gradient tensor a backward function may add {@code in}'s gradient into in place, instead of returning
     * it: {@code in}'s existing {@code .grad} when {@code in} is a leaf that requires a gradient and already holds
     * one of its own shape and dtype, contiguous, that shares no buffer with {@code reads} (the tensors the
     * backward reads while it adds); else null. A backward that adds into it returns null for that input. The
     * result is what accumulation would give (the leaf's gradient plus this contribution), without a new
     * gradient tensor and a second pass over it: PyTorch's AccumulateGrad, fused into the producing kernel.
     */
    static Tensor leafGradSink(Tensor in, Tensor... reads) {
        if (in == null || !in.requiresGrad() || in.gradFn() != null) {
            return null;
        }
        Tensor cur = in.grad();
        if (cur == null || cur.dtype() != in.dtype() || !cur.isContiguous() || !Arrays.equals(cur.shapeRef(), in.shapeRef())) {
            return null;
        }
        Object buf = buffer(cur.storage());
        for (Tensor r : reads) {
            if (r != null && buffer(r.storage()) == buf) {
                return null;
            }
        }
        return cur;
    }

    /**
     * Whether {@code gi[i]} is a buffer that nothing else can see, so that a leaf may take it as its
     * gradient instead of a copy: it covers a whole buffer contiguously, and that buffer is not the
     * incoming gradient {@code g} (which the caller or another node may hold), not an input of the
     * node, and not behind any other gradient the node returned (views of one result, or the same
     * tensor for two inputs, as {@code add} returns). Backward functions return either such views
     * or the results of new computations.
     */
    private static boolean owned(Tensor gin, int i, Tensor[] gi, Tensor g, Tensor[] inputs) {
        Object buf = buffer(gin.storage());
        if (gin.offset() != 0 || !gin.isContiguous() || gin.numel() != gin.storage().length() || buf == buffer(g.storage())) {
            return false;
        }
        for (int j = 0; j < gi.length; j++) {
            if (j != i && gi[j] != null && buffer(gi[j].storage()) == buf) {
                return false;
            }
        }
        for (Tensor in : inputs) {
            if (in != null && buffer(in.storage()) == buf) {
                return false;
            }
        }
        return true;
    }

    /** The identity of a buffer: the heap array itself (two storages may wrap one array), else the storage. */
    private static Object buffer(Storage s) {
        return s instanceof HeapStorage h ? h.array() : s;
    }

    /** Non-leaf tensors reachable from root, each after every tensor that consumes it. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> post = new ArrayList<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = t.gradFn().inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.gradFn() != null && visited.add(in)) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                post.add(t);
            }
        }
        Collections.reverse(post);
        return post;
    }
}
