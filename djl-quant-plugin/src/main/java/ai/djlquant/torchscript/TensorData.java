package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * One tensor of a TorchScript archive as PyTorch wrote it: a view ({@code shape}, {@code strides},
 * {@code storageOffset}, all counted in elements) into a typed storage (the whole record {@code
 * data/<storageKey>} of the archive, little-endian). Tensors that share a storage in PyTorch (a
 * parameter and its transpose, slices of one buffer) share the same storage here.
 *
 * <p>Element {@code (i_0, ..., i_{n-1})} lies at element index {@code storageOffset + sum_k i_k *
 * strides[k]} of the storage, i.e. at byte {@code elementSize * (storageOffset + sum_k i_k *
 * strides[k])}. The view is valid when every shape and stride is non-negative and, for a tensor with
 * at least one element, {@code storageOffset + sum_k (shape[k] - 1) * strides[k] <
 * storageElements}; a tensor with no elements needs only {@code storageOffset <= storageElements}.
 * The constructor refuses anything else (and sums that overflow a {@code long}).
 *
 * <p>{@link #dtype()} is PyTorch's name: "float32", "float64", "float16", "bfloat16", "int64",
 * "int32", "int16", "int8", "uint8", "bool".
 *
 * @param dtype PyTorch's name of the element type
 * @param shape the size of each dimension (empty for a 0-d tensor)
 * @param strides the step of each dimension, in elements
 * @param storageOffset the index of element {@code (0, ..., 0)} in the storage, in elements
 * @param storageKey the storage's record name in the archive (the key of {@code data/<key>})
 * @param storage the whole storage; read-only, little-endian, position 0
 * @param requiresGrad whether PyTorch marked the tensor as requiring gradients (parameters)
 */
public record TensorData(
        String dtype,
        long[] shape,
        long[] strides,
        long storageOffset,
        String storageKey,
        ByteBuffer storage,
        boolean requiresGrad) {

    /** Bytes per element of each dtype this reader knows. */
    private static final Map<String, Integer> ELEMENT_SIZE =
            Map.of(
                    "float32", 4,
                    "float64", 8,
                    "float16", 2,
                    "bfloat16", 2,
                    "int64", 8,
                    "int32", 4,
                    "int16", 2,
                    "int8", 1,
                    "uint8", 1,
                    "bool", 1);

    /** DJL's type for each dtype (every one has one in DJL 0.35; see toNDArray for int16/bfloat16). */
    private static final Map<String, DataType> DJL_TYPE =
            Map.of(
                    "float32", DataType.FLOAT32,
                    "float64", DataType.FLOAT64,
                    "float16", DataType.FLOAT16,
                    "bfloat16", DataType.BFLOAT16,
                    "int64", DataType.INT64,
                    "int32", DataType.INT32,
                    "int16", DataType.INT16,
                    "int8", DataType.INT8,
                    "uint8", DataType.UINT8,
                    "bool", DataType.BOOLEAN);

    /** More dimensions than PyTorch allows (its limit is 64). */
    static final int MAX_RANK = 64;

    /**
     * Checks the view and keeps private copies of the arrays.
     *
     * @param dtype PyTorch's name of the element type
     * @param shape the size of each dimension
     * @param strides the step of each dimension, in elements
     * @param storageOffset the index of element (0, ..., 0) in the storage
     * @param storageKey the storage's record name
     * @param storage the whole storage (its bytes are read little-endian; it is not copied)
     * @param requiresGrad whether PyTorch marked the tensor as requiring gradients
     * @throws IllegalArgumentException when the view does not fit the storage or a value is out of
     *     range; {@link TorchScriptArchive} checks first and reports the file instead
     */
    public TensorData {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(strides, "strides");
        Objects.requireNonNull(storageKey, "storageKey");
        Objects.requireNonNull(storage, "storage");
        shape = shape.clone();
        strides = strides.clone();
        storage = storage.asReadOnlyBuffer().position(0).order(ByteOrder.LITTLE_ENDIAN);
        String problem = problem(dtype, shape, strides, storageOffset, storage.capacity());
        if (problem != null) {
            throw new IllegalArgumentException("Tensor on storage " + storageKey + ": " + problem + ".");
        }
    }

    /**
     * What is wrong with a view, or {@code null} when it is valid.
     *
     * @param dtype the element type
     * @param shape the sizes
     * @param strides the strides
     * @param offset the storage offset
     * @param storageBytes the storage's size in bytes
     * @return the problem as a clause without a full stop, or null
     */
    static String problem(String dtype, long[] shape, long[] strides, long offset, long storageBytes) {
        Integer size = ELEMENT_SIZE.get(dtype);
        if (size == null) {
            return "dtype " + dtype + " is not one of " + new java.util.TreeSet<>(ELEMENT_SIZE.keySet());
        }
        if (storageBytes % size != 0) {
            return "its storage of " + storageBytes + " bytes is not a whole number of " + dtype
                    + " elements (" + size + " bytes each)";
        }
        if (shape.length != strides.length) {
            return "shape " + Arrays.toString(shape) + " has " + shape.length + " dimensions but strides "
                    + Arrays.toString(strides) + " has " + strides.length;
        }
        if (shape.length > MAX_RANK) {
            return "it has " + shape.length + " dimensions, more than PyTorch's " + MAX_RANK;
        }
        long elements = storageBytes / size;
        if (offset < 0) {
            return "storage offset " + offset + " is negative";
        }
        long numel = 1;
        long last = offset;
        try {
            for (int k = 0; k < shape.length; k++) {
                if (shape[k] < 0 || strides[k] < 0) {
                    return "shape " + Arrays.toString(shape) + " / strides " + Arrays.toString(strides)
                            + " has a negative entry";
                }
                numel = Math.multiplyExact(numel, shape[k]);
                if (shape[k] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(shape[k] - 1, strides[k]));
                }
            }
            Math.multiplyExact(numel, (long) size);
        } catch (ArithmeticException overflow) {
            return "shape " + Arrays.toString(shape) + " with strides " + Arrays.toString(strides)
                    + " overflows a 64-bit element count";
        }
        if (numel == 0 ? offset > elements : last >= elements) {
            return "shape " + Arrays.toString(shape) + " with strides " + Arrays.toString(strides)
                    + " and offset " + offset + " reaches element " + last + " of a storage of only "
                    + elements + " " + dtype + " elements";
        }
        return null;
    }

    /**
     * Bytes per element of a dtype this reader knows.
     *
     * @param dtype PyTorch's name
     * @return the size, or 0 when the dtype is unknown
     */
    static int elementSize(String dtype) {
        return ELEMENT_SIZE.getOrDefault(dtype, 0);
    }

    /**
     * The size of each dimension.
     *
     * @return a copy of the shape
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The step of each dimension, in elements.
     *
     * @return a copy of the strides
     */
    @Override
    public long[] strides() {
        return strides.clone();
    }

    /**
     * The whole storage.
     *
     * @return a fresh read-only little-endian view of it, position 0
     */
    @Override
    public ByteBuffer storage() {
        return storage.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The number of elements of the view (the product of the shape; 1 for a 0-d tensor).
     *
     * @return the element count
     */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d; // cannot overflow: the constructor checked
        }
        return n;
    }

    /**
     * Whether the view is row-major contiguous (dimensions of size 1 may have any stride).
     *
     * @return true when the elements are the storage's, in order, from {@link #storageOffset()}
     */
    public boolean isContiguous() {
        if (numel() == 0) {
            return true;
        }
        long expected = 1;
        for (int k = shape.length - 1; k >= 0; k--) {
            if (shape[k] != 1 && strides[k] != expected) {
                return false;
            }
            expected *= shape[k];
        }
        return true;
    }

    /**
     * The elements in row-major order, as little-endian bytes of {@link #dtype()}.
     *
     * @return a new array of {@code numel * elementSize} bytes
     * @throws IllegalStateException when that is more than a Java array holds
     */
    public byte[] contiguousBytes() {
        int size = ELEMENT_SIZE.get(dtype);
        long total = numel() * size;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(
                    "Tensor on storage " + storageKey + " has " + total + " bytes, more than one Java array holds.");
        }
        byte[] out = new byte[(int) total];
        if (total == 0) {
            return out;
        }
        ByteBuffer src = storage();
        if (isContiguous()) {
            src.position((int) (storageOffset * size)).get(out);
            return out;
        }
        // An odometer over the indices: the innermost dimension steps by its stride, and a carry
        // moves the source back by the span of the dimension it finished.
        int rank = shape.length;
        long[] index = new long[rank];
        long at = storageOffset;
        for (int written = 0; written < total; written += size) {
            src.position((int) (at * size)).get(out, written, size);
            for (int k = rank - 1; k >= 0; k--) {
                index[k]++;
                at += strides[k];
                if (index[k] < shape[k]) {
                    break;
                }
                at -= strides[k] * shape[k];
                index[k] = 0;
            }
        }
        return out;
    }

    /**
     * A contiguous copy as a DJL array of the matching {@link DataType}, on {@code manager}.
     *
     * <p>int16 and bfloat16 are refused: DJL 0.35's PyTorch engine aborts the whole process (a
     * native {@code terminate}, which no Java code can catch) when it makes an array of either type
     * from a buffer. {@link #toFloatArray()} reads bfloat16 exactly, and {@link
     * #contiguousBytes()} gives any dtype's bytes.
     *
     * @param manager where the array lives
     * @return a new array with this tensor's shape and values
     * @throws UnsupportedOperationException for int16 and bfloat16, or when the manager's engine
     *     refuses the dtype
     */
    public NDArray toNDArray(NDManager manager) {
        if (dtype.equals("int16") || dtype.equals("bfloat16")) {
            throw new UnsupportedOperationException(
                    "Tensor on storage " + storageKey + " is " + dtype + ", which toNDArray does not make:"
                            + " DJL's PyTorch engine aborts the process on " + dtype + " arrays made from a buffer;"
                            + " read it with " + (dtype.equals("bfloat16") ? "toFloatArray()" : "contiguousBytes()")
                            + " instead.");
        }
        DataType type = DJL_TYPE.get(dtype);
        byte[] bytes = contiguousBytes();
        ByteBuffer data = manager.allocateDirect(bytes.length);
        data.put(bytes).rewind();
        try {
            return manager.create(data, new Shape(shape), type);
        } catch (RuntimeException e) {
            throw new UnsupportedOperationException(
                    "Tensor on storage " + storageKey + " is " + dtype + ", which DJL's "
                            + manager.getEngine().getEngineName() + " engine cannot hold (" + e.getMessage() + ").",
                    e);
        }
    }

    /**
     * The elements in row-major order as floats.
     *
     * @return the values; float64 is rounded to nearest float32, float16 and bfloat16 are exact
     * @throws IllegalStateException when the dtype is not a floating type
     */
    public float[] toFloatArray() {
        ByteBuffer bytes = ByteBuffer.wrap(contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) numel();
        float[] out = new float[n];
        switch (dtype) {
            case "float32" -> bytes.asFloatBuffer().get(out);
            case "float64" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) bytes.getDouble(8 * i);
                }
            }
            case "float16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(bytes.getShort(2 * i));
                }
            }
            case "bfloat16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((bytes.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            default -> throw new IllegalStateException(
                    "Tensor on storage " + storageKey + " is " + dtype + ", not a floating type.");
        }
        return out;
    }

    /**
     * IEEE 754 binary16 to binary32, exactly (Java 17 has no {@code Float.float16ToFloat}).
     *
     * @param half the 16 bits
     * @return the same number as a float
     */
    static float halfToFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) { // infinity or NaN: keep the payload
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, exact in float32
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t
                && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape)
                && Arrays.equals(strides, t.strides)
                && storageOffset == t.storageOffset
                && storageKey.equals(t.storageKey)
                && storage.equals(t.storage)
                && requiresGrad == t.requiresGrad;
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(strides), storageOffset, storageKey);
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + " " + Arrays.toString(shape) + ", strides " + Arrays.toString(strides)
                + ", offset " + storageOffset + ", storage " + storageKey + " (" + storage.capacity() + " bytes)"
                + (requiresGrad ? ", requires grad" : "") + "]";
    }
}
