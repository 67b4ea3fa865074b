package dev.kiln.engine;

/**
 * Gradient recording mode of the current thread. Ops record themselves on the tape only while it
 * is enabled (the default); a {@link Scope} turns it off and restores the previous mode on close.
 *
 * <pre>{@code
 * try (var ng = Grad.disabled()) {
 *     Tensor teacherLogits = teacher.forward(x);   // nothing recorded
 * }
 * }</pre>
 */
public final class Grad {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private Grad() {
    }

    /** True when ops are recorded for backward on this thread. */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the returned scope is closed. */
    public static Scope disabled() {
        return set(false);
    }

    /** Enables recording until the returned scope is closed (inside a disabled scope). */
    public static Scope enabled() {
        return set(true);
    }

    private static Scope set(boolean on) {
        boolean[] cell = ENABLED.get();
        Scope s = new Scope(cell, cell[0]);
        cell[0] = on;
        return s;
    }

    /** Restores the previous recording mode when closed. */
    public static final class Scope implements AutoCloseable {
        private final boolean[] cell;
        private final boolean previous;
        private boolean closed;

        private Scope(boolean[] cell, boolean previous) {
            this.cell = cell;
            this.previous = previous;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                cell[0] = previous;
            }
        }
    }
}
