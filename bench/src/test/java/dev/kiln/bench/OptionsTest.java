package dev.kiln.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptionsTest {
    @Test
    void pinsOneThreadMeasurementsByDefault() {
        Options o = Options.parse(new String[0]);
        assertTrue(o.pin());
        assertEquals(-1, o.cpu());
        assertEquals(0, Options.parse(new String[] {"--cpu", "0"}).cpu());
        assertEquals(3, Options.parse(new String[] {"--cpu", "3"}).cpu());
        assertFalse(Options.parse(new String[] {"--no-pin"}).pin());
    }

    @Test
    void refusesABadCpuAndCpuWithNoPin() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] {"--cpu", "-2"}));
        assertEquals("--cpu: expected a positive integer, got '-2'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] {"--cpu", "1", "--no-pin"}));
        assertEquals("--cpu 1 and --no-pin: expected one of them, got both", e.getMessage());
    }
}
