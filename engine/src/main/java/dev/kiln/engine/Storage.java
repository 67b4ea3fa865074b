package dev.kiln.engine;

/**
 * The buffer behind one or more tensors (views share it). CPU storage is a JVM heap array;
 * other devices add their own kinds.
 */
public sealed interface Storage permits HeapStorage, CudaStorage {
    /** Element type of the buffer. */
    DType dtype();

    /** Number of elements in the buffer. */
    int length();

    /** Device the buffer lives on. */
    Device device();
}
