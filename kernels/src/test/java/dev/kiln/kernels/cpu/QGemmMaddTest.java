package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every {@link QGemmTest} case again on the AVX2 {@code vpmaddwd} kernels forced for all shapes
 * ({@link QGemmJit.Mode#MADD}), plus shapes at the edges of their blocking: the lanes-along-k kernel
 * below 32 rows (groups of 4 rows, 3 columns, 16-byte steps, B ending at its array), 6-row tiles, 8-column
 * vectors, 16-column panels, 32-column blocks, 256-row accumulator tiles, odd k (a half pair),
 * k whose pairs fill whole 1 KB rows (the padded row stride). Skipped where AVX2 code cannot run.
 */
class QGemmMaddTest extends QGemmTest {
    @Override
    @BeforeEach
    void forcePath() {
        Assumptions.assumeTrue(QGemmMadd.SUPPORTED, "no AVX2 code here (CPU, OS or native access)");
        QGemmJit.mode = QGemmJit.Mode.MADD;
    }

    @AfterEach
    void restorePath() {
        QGemmJit.mode = QGemmJit.Mode.AUTO;
    }

    @Test
    void blockingEdgesMatchReference() {
        QGemmJitTest.edgesMatchReference(new int[] {1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 36, 41, 42, 63, 64, 65, 255, 256, 257, 515},
                new int[] {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 73, 97}, new int[] {1, 2, 3, 15, 16, 17, 31, 33, 512, 513});
    }

    @Test
    void extremeValuesMatchReference() {
        QGemmJitTest.extremesMatchReference(new int[] {3, 4, 9, 65, 257});
    }

    @Test
    void rowStrideSkipsWholeKilobytes() {
        assertEquals(528, QGemmMadd.pairStride(256));
        assertEquals(1040, QGemmMadd.pairStride(512));
        assertEquals(784, QGemmMadd.pairStride(392));
        assertEquals(16, QGemmMadd.pairStride(1));
    }
}
