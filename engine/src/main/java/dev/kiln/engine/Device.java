package dev.kiln.engine;

/**
 * Where a tensor's storage lives: the CPU (JVM heap) or a CUDA device by index.
 *
 * @param type  the kind of device
 * @param index the device ordinal (0 for the CPU)
 */
public record Device(Type type, int index) {
    /** Kinds of devices. */
    public enum Type { CPU, CUDA }

    /** The CPU. */
    public static final Device CPU = new Device(Type.CPU, 0);

    public Device {
        if (type == null) {
            throw new IllegalArgumentException("Device: expected a type, got null");
        }
        if (index < 0 || (type == Type.CPU && index != 0)) {
            throw new IllegalArgumentException("Device: expected index 0 for CPU or >= 0 for CUDA, got " + type + ":" + index);
        }
    }

    /** CUDA device number {@code index}. */
    public static Device cuda(int index) {
        return new Device(Type.CUDA, index);
    }

    /** Parses "cpu", "cuda" or "cuda:N". */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Device: expected cpu, cuda or cuda:N, got '" + s + "'");
            }
        }
        throw new IllegalArgumentException("Device: expected cpu, cuda or cuda:N, got '" + s + "'");
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "cuda:" + index;
    }
}
