package dev.kiln.bench;

import dev.kiln.kernels.Affinity;
import java.util.BitSet;

/**
 * Where the report's 1-thread measurements run: Kiln's thread (and with it OpenBLAS on one
 * thread, which runs on the caller) and every thread of the PyTorch worker on one CPU, so that
 * both sides of a ratio see the same core; measurements at more threads run where the OS puts them.
 *
 * <p>Without it, on this 2-vCPU VM, each process kept the vCPU it started on, and the two vCPUs
 * differed by up to 25% for minutes at a time on cache-heavy kernels ({@link Affinity}): a 1-thread
 * ratio then moved by as much between runs.
 */
final class Pinning {
    private final BitSet start;
    private final int cpu;
    private final String why;

    private Pinning(BitSet start, int cpu, String why) {
        this.start = start;
        this.cpu = cpu;
        this.why = why;
    }

    /** The pinning {@code o} asks for; throws {@link IllegalArgumentException} for a CPU this process may not use. */
    static Pinning choose(Options o) {
        if (!o.pin()) {
            return new Pinning(null, -1, "--no-pin");
        }
        if (!Affinity.supported()) {
            return new Pinning(null, -1, Affinity.unsupportedReason());
        }
        try {
            return new Pinning(Affinity.get(), Affinity.choose(o.cpu()), null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cpu: " + e.getMessage(), e);
        }
    }

    String describe() {
        return cpu < 0 ? "1-thread measurements not pinned (" + why + ")"
                : "1-thread measurements on CPU " + cpu + ": Kiln's thread, OpenBLAS and the PyTorch worker (--cpu N to choose, "
                        + "--no-pin to let the OS place them)";
    }

    /** Before the measurements at {@code threads}: pinned for one thread, back to the starting CPUs otherwise. */
    void apply(int threads, TorchPeer torch) {
        if (cpu < 0) {
            return;
        }
        if (threads == 1) {
            Affinity.pin(cpu);
            if (torch != null) {
                torch.cpus(Integer.toString(cpu));
            }
        } else {
            Affinity.set(start);
            if (torch != null) {
                torch.cpus("all");
            }
        }
    }

    /** Back to the CPUs this thread started with. */
    void release() {
        if (cpu >= 0) {
            Affinity.set(start);
        }
    }
}
