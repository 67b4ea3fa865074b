package dev.kiln.kernels.cpu.x86;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Machine code made at run time and called through the FFM linker: {@link #function} copies the
 * bytes into pages mapped read-write with libc's {@code mmap}, turns them read-execute with
 * {@code mprotect} (never writable and executable at once) and returns a downcall handle to them.
 * The pages are never unmapped: callers build each function once and cache it for the life of
 * the process.
 *
 * <p>{@link #AVAILABLE} says whether this works here: Linux on x86-64, native access granted to
 * this code's module ({@code --enable-native-access=ALL-UNNAMED}, or {@code Enable-Native-Access}
 * in an executable jar's manifest) and libc's functions found. Without native access it is false
 * rather than an error or a warning, and callers keep their Java paths.
 */
public final class JitCode {
    /** Whether run-time code can be installed and called here (see the class comment). */
    public static final boolean AVAILABLE;
    /** Why {@link #AVAILABLE} is false (null when it is true). */
    public static final String UNAVAILABLE_REASON;
    private static final Set<String> FLAGS = cpuFlags();
    private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private static final long PAGE = 4096;
    private static final MethodHandle MMAP;
    private static final MethodHandle MPROTECT;

    static {
        String why = null;
        MethodHandle mmap = null;
        MethodHandle mprotect = null;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("linux")) {
            why = "not Linux (os.name " + os + ")";
        } else if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            why = "not x86-64 (os.arch " + arch + ")";
        } else if (!JitCode.class.getModule().isNativeAccessEnabled()) {
            why = "native access is not enabled for " + JitCode.class.getModule()
                    + " (--enable-native-access=ALL-UNNAMED)";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
                mprotect = linker.downcallHandle(libc.find("mprotect").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                why = "libc mmap/mprotect not linked: " + e;
                mmap = null;
                mprotect = null;
            }
        }
        if (why == null) {
            // Loads MemorySessionImpl$ResourceList, a class in the signature of the constructor that
            // MemorySegment.ofArray's heap session calls: while it is not loaded, C2 cannot inline that
            // constructor, the session escapes, and every downcall with heap segments allocates them
            // (measured: 160 B per call of the generated conv tiles in a process that had opened no arena)
            try (Arena warm = Arena.ofConfined()) {
                warm.allocate(1);
            }
        }
        AVAILABLE = why == null;
        UNAVAILABLE_REASON = why;
        MMAP = mmap;
        MPROTECT = mprotect;
    }

    private JitCode() {
    }

    /**
     * Whether generated code that needs the CPU {@code flags} can be used here: {@link #AVAILABLE},
     * every flag present, and {@code selfCheck} (the code against Java arithmetic) passing; an
     * exception from it counts as failing.
     */
    public static boolean usable(java.util.function.BooleanSupplier selfCheck, String... flags) {
        if (!AVAILABLE) {
            return false;
        }
        for (String f : flags) {
            if (!cpuHas(f)) {
                return false;
            }
        }
        try {
            return selfCheck.getAsBoolean();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Whether /proc/cpuinfo lists {@code flag} for this CPU (false when it cannot be read). */
    public static boolean cpuHas(String flag) {
        return FLAGS.contains(flag);
    }

    /**
     * Installs {@code code} in fresh read-execute pages and returns a downcall handle of type
     * {@code descriptor} to its first byte.
     *
     * @throws IllegalStateException when {@link #AVAILABLE} is false or the pages cannot be mapped
     */
    public static MethodHandle function(byte[] code, FunctionDescriptor descriptor, Linker.Option... options) {
        if (!AVAILABLE) {
            throw new IllegalStateException("JitCode: run-time code is unavailable: " + UNAVAILABLE_REASON);
        }
        if (code.length == 0) {
            throw new IllegalArgumentException("JitCode: expected code bytes, got none");
        }
        long size = (code.length + PAGE - 1) / PAGE * PAGE;
        MemorySegment pages;
        try {
            pages = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (pages.address() == -1L || pages.address() == 0L) {
                throw new IllegalStateException("JitCode: mmap of " + size + " bytes failed");
            }
            pages = pages.reinterpret(size);
            MemorySegment.copy(code, 0, pages, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, code.length);
            int rc = (int) MPROTECT.invokeExact(pages, size, PROT_READ | PROT_EXEC);
            if (rc != 0) {
                throw new IllegalStateException("JitCode: mprotect(PROT_READ | PROT_EXEC) failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("JitCode: " + t, t);
        }
        return Linker.nativeLinker().downcallHandle(pages, descriptor, options);
    }

    private static Set<String> cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    int colon = line.indexOf(':');
                    // copyOf, not of: a repeated flag must not throw (and turn every flag off)
                    return Set.copyOf(java.util.Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
                }
            }
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
        return Set.of();
    }
}
