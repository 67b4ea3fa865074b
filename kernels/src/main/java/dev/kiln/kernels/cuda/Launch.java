package dev.kiln.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One kernel launch: the function, grid and block, then the arguments in the kernel's order.
 * Each argument is written to native memory and {@code cuLaunchKernel} gets the array of pointers
 * to them (the driver copies the values, so the memory is freed right after the call).
 *
 * <pre>{@code
 * Launch.of(dev, "elementwise", "kiln_axpy").grid(blocks).block(256)
 *       .ptr(y).f32(alpha).ptr(x).i64(n).run();
 * }</pre>
 */
public final class Launch {
    private final CudaDevice device;
    private final String name;
    private final long function;
    private final int[] grid = {1, 1, 1};
    private final int[] block = {1, 1, 1};
    private int sharedBytes;
    private final List<Object> args = new ArrayList<>();

    private Launch(CudaDevice device, String name, long function) {
        this.device = device;
        this.name = name;
        this.function = function;
    }

    /** A launch of kernel {@code kernel} of module {@code module} (a fatbin resource) on {@code device}. */
    public static Launch of(CudaDevice device, String module, String kernel) {
        return new Launch(device, kernel, device.function(module, kernel));
    }

    public Launch grid(int x) {
        return grid(x, 1, 1);
    }

    public Launch grid(int x, int y, int z) {
        check("grid", x, y, z);
        grid[0] = x;
        grid[1] = y;
        grid[2] = z;
        return this;
    }

    public Launch block(int x) {
        return block(x, 1, 1);
    }

    public Launch block(int x, int y, int z) {
        check("block", x, y, z);
        if ((long) x * y * z > 1024) {
            throw new IllegalArgumentException(name + ": expected at most 1024 threads per block, got " + x + "x" + y + "x" + z);
        }
        block[0] = x;
        block[1] = y;
        block[2] = z;
        return this;
    }

    private void check(String what, int x, int y, int z) {
        if (x < 1 || y < 1 || z < 1) {
            throw new IllegalArgumentException(name + ": expected " + what + " dims >= 1, got " + x + "x" + y + "x" + z);
        }
    }

    public Launch sharedBytes(int bytes) {
        sharedBytes = bytes;
        return this;
    }

    /** A device pointer (or 0 for a null pointer). */
    public Launch ptr(long devicePointer) {
        args.add(devicePointer);
        return this;
    }

    /** A 32-bit int. */
    public Launch i32(int v) {
        args.add(v);
        return this;
    }

    /** A 64-bit int ({@code long long}). */
    public Launch i64(long v) {
        args.add(v);
        return this;
    }

    public Launch f32(float v) {
        args.add(v);
        return this;
    }

    /** A struct passed by value, given as its int fields in order (the kernels' structs hold only ints). */
    public Launch struct(int[] fields) {
        args.add(fields.clone());
        return this;
    }

    /** The number of arguments added so far. */
    public int argCount() {
        return args.size();
    }

    /** Writes the arguments and launches on the device's stream. */
    public void run() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ValueLayout.ADDRESS, args.size());
            for (int i = 0; i < args.size(); i++) {
                MemorySegment slot = switch (args.get(i)) {
                    case Long l -> a.allocateFrom(ValueLayout.JAVA_LONG, l);
                    case Integer v -> a.allocateFrom(ValueLayout.JAVA_INT, v);
                    case Float f -> a.allocateFrom(ValueLayout.JAVA_FLOAT, f);
                    case int[] s -> a.allocateFrom(ValueLayout.JAVA_INT, s);
                    default -> throw new IllegalStateException("unexpected argument " + args.get(i));
                };
                params.setAtIndex(ValueLayout.ADDRESS, i, slot);
            }
            device.launch(name, function, grid, block, sharedBytes, params);
        }
    }

    /** Blocks of {@code threads} threads covering {@code n} elements, capped for grid-stride loops. */
    public static int blocksFor(long n, int threads) {
        return (int) Math.max(1, Math.min((n + threads - 1) / threads, 65535L * 16));
    }
}
