package dev.kiln.nn.loss;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.Arrays;

/**
 * Class-index targets checked against scores {@code [N, C, d...]} (or {@code [C]}), with the scores
 * laid out as rows {@code [M, C]} and, per row, an index safe to gather (ignored targets become 0)
 * and the row's weight: the class weight of its target, 0 where the target is ignored, and null
 * when every row weighs 1.
 */
record ClassTargets(Tensor rows, Tensor index, Tensor rowWeights, Tensor valid, int[] outShape, int classes) {

    static ClassTargets of(String op, Tensor scores, Tensor target, Tensor classWeights, long ignoreIndex) {
        if (!scores.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected floating scores, got " + scores.dtype() + " " + Arrays.toString(scores.shape()));
        }
        if (target.dtype() != DType.I64 && target.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": expected an I64 (or I32) class-index target, got " + target.dtype() + " "
                    + Arrays.toString(target.shape()));
        }
        int[] ss = scores.shape();
        if (ss.length == 0) {
            throw new IllegalArgumentException(op + ": expected scores [N, C], [N, C, d...] or [C], got []");
        }
        int c = ss.length == 1 ? ss[0] : ss[1];
        int[] expected = ss.length == 1 ? new int[0] : withoutDim1(ss);
        if (!Arrays.equals(target.shape(), expected)) {
            throw new IllegalArgumentException(op + ": expected target " + Arrays.toString(expected) + " for scores " + Arrays.toString(ss)
                    + ", got " + Arrays.toString(target.shape()));
        }
        if (classWeights != null && (classWeights.rank() != 1 || classWeights.size(0) != c || classWeights.dtype() != scores.dtype())) {
            throw new IllegalArgumentException(op + ": expected class weights [" + c + "] " + scores.dtype() + ", got "
                    + Arrays.toString(classWeights.shape()) + " " + classWeights.dtype());
        }
        long[] t = target.to(Device.CPU).toLongArray();
        boolean anyIgnored = false;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == ignoreIndex) {
                anyIgnored = true;
            } else if (t[i] < 0 || t[i] >= c) {
                throw new IllegalArgumentException(op + ": target " + t[i] + " at position " + i + " is out of range [0, " + c + ")");
            }
        }
        Device device = scores.device();
        Tensor index = target.to(DType.I64).reshape(-1);
        Tensor valid = null;
        if (anyIgnored) {
            double[] v = new double[t.length];
            long[] safe = new long[t.length];
            for (int i = 0; i < t.length; i++) {
                boolean keep = t[i] != ignoreIndex;
                v[i] = keep ? 1 : 0;
                safe[i] = keep ? t[i] : 0;
            }
            valid = Tensors.of(v, t.length).to(scores.dtype()).to(device);
            index = Tensors.of(safe, t.length).to(device);
        }
        Tensor rowWeights = valid;
        if (classWeights != null) {
            Tensor w = Functional.indexSelect(classWeights, 0, index);
            rowWeights = valid == null ? w : w.mul(valid);
        }
        return new ClassTargets(rows(scores, c), index, rowWeights, valid, expected, c);
    }

    private static int[] withoutDim1(int[] s) {
        int[] out = new int[s.length - 1];
        out[0] = s[0];
        System.arraycopy(s, 2, out, 1, s.length - 2);
        return out;
    }

    /** Scores as rows {@code [M, C]}: class dim moved last, the others flattened. */
    private static Tensor rows(Tensor scores, int c) {
        int r = scores.rank();
        if (r <= 2) {
            return scores.reshape(-1, c);
        }
        int[] perm = new int[r];
        perm[0] = 0;
        for (int i = 2; i < r; i++) {
            perm[i - 1] = i;
        }
        perm[r - 1] = 1;
        return scores.permute(perm).reshape(-1, c);
    }
}
