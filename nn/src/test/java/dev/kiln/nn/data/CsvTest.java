package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        return Files.writeString(dir.resolve("data.csv"), text, StandardCharsets.UTF_8);
    }

    @Test
    void readsFeaturesAndTheLabelColumnByName() throws IOException {
        Path p = file("\uFEFFa, \"label\" ,b,c\n1.5,2,-3,4e2\n\n  0 ,0,\"7\",nan\n-1,1,inf,-Infinity\n");
        InMemoryDataset ds = Csv.read(p, "label", true, ',');
        assertEquals(3, ds.size());
        assertArrayEquals(new int[] {3}, ds.sampleShape());
        assertArrayEquals(new long[] {2, 0, 1}, ds.labels());
        assertArrayEquals(new float[] {1.5f, -3, 400, 0, 7, Float.NaN, -1, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY},
                ds.data());
    }

    @Test
    void readsByIndexWithoutHeaderAndOtherSeparators() throws IOException {
        InMemoryDataset last = Csv.read(file("0.25\t1\t3\n0.5\t2\t4\n"), -1, false, '\t');
        assertArrayEquals(new long[] {3, 4}, last.labels());
        assertArrayEquals(new float[] {0.25f, 1, 0.5f, 2}, last.data());
        InMemoryDataset first = Csv.read(file("x;y\n5;1.5\n6;\"2\"\n"), 0, true, ';');
        assertArrayEquals(new long[] {5, 6}, first.labels());
        assertArrayEquals(new float[] {1.5f, 2}, first.data());
    }

    @Test
    void quotedFieldsMayHoldTheSeparatorAndQuotes() throws IOException {
        InMemoryDataset ds = Csv.read(file("\"a,\"\"x\"\"\",label\n1,0\n"), "label", true, ',');
        assertArrayEquals(new float[] {1}, ds.data());
        var e = assertThrows(MalformedDataException.class, () -> Csv.read(file("\"a,\"\"x\"\"\",label\n\"1,0\n"), 1, true, ','));
        assertEquals(dir.resolve("data.csv") + ": line 2: unbalanced double quote (fields cannot span lines)", e.getMessage());
    }

    @Test
    void nonNumericValuesNameFileLineAndColumn() throws IOException {
        Path p = file("a,b,label\n1,2,0\n3,four,1\n");
        var e = assertThrows(MalformedDataException.class, () -> Csv.read(p, "label", true, ','));
        assertEquals(p + ": line 3, column 2 (\"b\"): expected a number, got \"four\"", e.getMessage());
        Path q = file("1,,0\n");
        var empty = assertThrows(MalformedDataException.class, () -> Csv.read(q, 2, false, ','));
        assertEquals(q + ": line 1, column 2: expected a number, got an empty value", empty.getMessage());
        Path r = file("1,2f,0\n");
        assertEquals(r + ": line 1, column 2: expected a number, got \"2f\"",
                assertThrows(MalformedDataException.class, () -> Csv.read(r, 2, false, ',')).getMessage());
    }

    @Test
    void labelsMustBeIntegers() throws IOException {
        Path p = file("a,species\n1.0,setosa\n");
        var e = assertThrows(MalformedDataException.class, () -> Csv.read(p, "species", true, ','));
        assertEquals(p + ": line 2, column 2 (\"species\"): expected an integer class label, got \"setosa\"", e.getMessage());
    }

    @Test
    void raggedRowsAreRejected() throws IOException {
        Path p = file("a,b,label\n1,2,0\n3,4,1\n5,1\n");
        var e = assertThrows(MalformedDataException.class, () -> Csv.read(p, "label", true, ','));
        assertEquals(p + ": line 4: expected 3 columns (as in the header), got 2", e.getMessage());
        Path q = file("1,2,0\n3,4,1,9\n");
        assertEquals(q + ": line 2: expected 3 columns (as in the first line), got 4",
                assertThrows(MalformedDataException.class, () -> Csv.read(q, 2, false, ',')).getMessage());
    }

    @Test
    void labelColumnAndShapeProblemsAreNamed() throws IOException {
        Path p = file("a,b\n1,2\n");
        assertEquals(p + ": no column named \"label\" in the header [a, b]",
                assertThrows(MalformedDataException.class, () -> Csv.read(p, "label", true, ',')).getMessage());
        assertEquals(p + ": label column 2 is outside the 2 columns of line 1 [a, b]",
                assertThrows(MalformedDataException.class, () -> Csv.read(p, 2, true, ',')).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Csv.read(p, "b", false, ','));
        Path h = file("a,b\n");
        assertEquals(h + ": no data rows after the header",
                assertThrows(MalformedDataException.class, () -> Csv.read(h, 1, true, ',')).getMessage());
        Path one = file("1\n2\n");
        assertEquals(one + ": line 1: expected at least 2 columns (features and a label) separated by ',', got 1",
                assertThrows(MalformedDataException.class, () -> Csv.read(one, 0, false, ',')).getMessage());
    }

    @Test
    void manyRowsGrowTheBuffers() throws IOException {
        StringBuilder sb = new StringBuilder("f1,f2,f3,y\n");
        for (int i = 0; i < 3000; i++) {
            sb.append(i).append(',').append(i + 0.5).append(',').append(-i).append(',').append(i % 3).append('\n');
        }
        InMemoryDataset ds = Csv.read(file(sb.toString()), "y", true, ',');
        assertEquals(3000, ds.size());
        float[] x = new float[3];
        ds.copySample(2999, x, 0);
        assertArrayEquals(new float[] {2999, 2999.5f, -2999}, x);
        assertEquals(2, ds.label(2999));
    }
}
