package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.kiln.kernels.ConvGeom;
import org.junit.jupiter.api.Test;

/** {@link ConvPacked#get}'s cache of lowered geometries: found by every argument, and rebuilt alike once evicted. */
class ConvPackedCacheTest {
    @Test
    void theSameArgumentsFindTheSameGeometryAndEveryArgumentCounts() {
        ConvGeom g = new ConvGeom(2, 3, 13, 11, 5, 3, 2, 1, 1, 1, 0, 1, 2, 1);
        ConvPacked a = ConvPacked.of(g);
        assertSame(a, ConvPacked.of(new ConvGeom(7, 3, 13, 11, 5, 3, 2, 1, 1, 1, 0, 1, 2, 1)), "batch and channels out do not count");
        int[] args = {3, 13, 11, 3, 2, 1, 1, 1, 0, 1, 2, g.oh(), g.ow()};
        for (int i = 0; i < args.length; i++) {
            int[] other = args.clone();
            other[i]++;
            assertNotSame(a, get(other), "argument " + i);
        }
        ConvPacked in = ConvPacked.input(g, g.h(), g.w());
        assertNotSame(a, in);
        assertSame(in, ConvPacked.input(g, g.h(), g.w()));
        assertEquals(g.ocPerGroup(), in.cin);
        assertEquals(g.h() * g.w(), in.p);
    }

    @Test
    void anEvictedGeometryIsRebuiltWithTheSameTables() {
        ConvGeom g = new ConvGeom(1, 2, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvPacked first = ConvPacked.of(g);
        for (int h = 20; h < 100; h++) { // more geometries than the cache holds
            ConvPacked.of(new ConvGeom(1, 2, h, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        }
        ConvPacked again = ConvPacked.of(g);
        assertNotSame(first, again);
        assertArrayEquals(first.tap, again.tap);
        assertArrayEquals(first.pos, again.pos);
        assertEquals(first.permutable, again.permutable);
    }

    private static ConvPacked get(int[] a) {
        return ConvPacked.get(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]);
    }
}
