package dev.kiln.nn.data;

import java.io.IOException;

/**
 * A data file that cannot be read as what it claims to be. The message is {@code source: problem},
 * where the source is the file's path (or the class-path resource's name).
 */
public final class MalformedDataException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;

    public MalformedDataException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
    }

    /** With the lower-level error that revealed the problem. */
    public MalformedDataException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** The path or resource name of the file at fault. */
    public String source() {
        return source;
    }
}
