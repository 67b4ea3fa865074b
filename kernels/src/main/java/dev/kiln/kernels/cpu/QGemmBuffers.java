package dev.kiln.kernels.cpu;

/**
 * Per-thread scratch of the quantized GEMM, grown on demand and reused across calls, so that no
 * call allocates once a thread has seen its largest shape.
 */
final class QGemmBuffers {
    private static final ThreadLocal<QGemmBuffers> LOCAL = ThreadLocal.withInitial(QGemmBuffers::new);

    private int[] packedA = new int[0];
    private int[] widened = new int[0];
    private int[] packedB = new int[0];
    private int[] colTile = new int[0];
    private int[] rowTile = new int[0];
    private int[] rowTerm = new int[0];
    private int[] colTerm = new int[0];
    private float[] colScale = new float[0];
    private float[] colBias = new float[0];
    private short[] shortA = new short[0];
    private byte[] scratchB = new byte[0];
    private int[] onesA = new int[0];
    private short[] pairsA = new short[0];
    private int[] pairsB = new int[0];
    private byte[] quadsA = new byte[0];

    /*
     * The heap segments of the downcalls' operands, by role ({@link QGemmMadd}): of widened A
     * (another thread's buffer when this one helps with a call), of B's panels (this thread's
     * buffer or prepacked weights), of the accumulator tiles, of B's widened rows or B itself.
     */
    final HeapSegments aSegments = new HeapSegments();
    final HeapSegments bSegments = new HeapSegments();
    final HeapSegments cSegments = new HeapSegments();
    final HeapSegments tSegments = new HeapSegments();

    private QGemmBuffers() {
    }

    static QGemmBuffers get() {
        return LOCAL.get();
    }

    /** Transposed, widened block of A ({@link QGemmColumns}). */
    int[] packedA(int size) {
        if (packedA.length < size) {
            packedA = new int[size];
        }
        return packedA;
    }

    /** Rows widened before they are transposed ({@link QGemmColumns}, {@link QGemmJit}, {@link QGemmMadd}'s panels). */
    int[] widened(int size) {
        if (widened.length < size) {
            widened = new int[size];
        }
        return widened;
    }

    /** Widened rows of B for one column tile. */
    int[] packedB(int size) {
        if (packedB.length < size) {
            packedB = new int[size];
        }
        return packedB;
    }

    /** Column-major accumulator tile. */
    int[] colTile(int size) {
        if (colTile.length < size) {
            colTile = new int[size];
        }
        return colTile;
    }

    /** A widened to 16-bit k-pairs, zero point subtracted ({@link QGemmMadd}; read by every thread of a call). */
    short[] pairsA(int size) {
        if (pairsA.length < size) {
            pairsA = new short[size];
        }
        return pairsA;
    }

    /** Panels of B widened to 16-bit k-pairs, one pair an int ({@link QGemmMadd}). */
    int[] pairsB(int size) {
        if (pairsB.length < size) {
            pairsB = new int[size];
        }
        return pairsB;
    }

    /** Row-major accumulator tile, the epilogue's input. */
    int[] rowTile(int size) {
        if (rowTile.length < size) {
            rowTile = new int[size];
        }
        return rowTile;
    }

    /** Per-row correction terms. */
    int[] rowTerm(int size) {
        if (rowTerm.length < size) {
            rowTerm = new int[size];
        }
        return rowTerm;
    }

    /** Per-column correction terms. */
    int[] colTerm(int size) {
        if (colTerm.length < size) {
            colTerm = new int[size];
        }
        return colTerm;
    }

    /** Per-column combined scales of the epilogue. */
    float[] colScale(int size) {
        if (colScale.length < size) {
            colScale = new float[size];
        }
        return colScale;
    }

    /** Per-column biases of the epilogue. */
    float[] colBias(int size) {
        if (colBias.length < size) {
            colBias = new float[size];
        }
        return colBias;
    }

    /** A widened to unsigned shorts ({@link QGemmDot}). */
    short[] shortA(int size) {
        if (shortA.length < size) {
            shortA = new short[size];
        }
        return shortA;
    }

    /** A row of ones, the column sums' left operand ({@link QGemmJit}). */
    int[] onesA(int size) {
        if (onesA.length < size) {
            onesA = new int[size];
        }
        return onesA;
    }

    /** Zero-padded copies of the last rows of B ({@link QGemmDot}, {@link QGemmJit}). */
    byte[] scratchB(int size) {
        if (scratchB.length < size) {
            scratchB = new byte[size];
        }
        return scratchB;
    }

    /** Rows of A as k-quads of bytes ({@link QGemmMadd}'s byte kernel). */
    byte[] quadsA(int size) {
        if (quadsA.length < size) {
            quadsA = new byte[size];
        }
        return quadsA;
    }
}
