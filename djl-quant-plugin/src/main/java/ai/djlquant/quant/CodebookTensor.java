package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor stored as a codebook and one index per element: element {@code i} is {@code
 * codebook[indices[i] & 0xFF]}. This is what the non-uniform quantizers ({@link KMeansQuantizer},
 * {@link QuantileQuantizer}) return; at 4 bits a float32 weight shrinks 8 times plus the codebook.
 *
 * <p>Instances are immutable (arrays are copied in and out) and validated: the codebook is finite,
 * non-decreasing, at most 256 entries, and every index points into it.
 */
public final class CodebookTensor {

    private final float[] codebook;
    private final byte[] indices;
    private final long[] shape;

    /**
     * Creates a codebook tensor.
     *
     * @param codebook the values, non-decreasing, 1 to 256 entries
     * @param indices one index per element, in row-major order (read as unsigned)
     * @param shape the tensor's shape
     * @throws IllegalArgumentException naming the field at fault
     */
    public CodebookTensor(float[] codebook, byte[] indices, long[] shape) {
        Objects.requireNonNull(codebook, "codebook");
        Objects.requireNonNull(indices, "indices");
        Objects.requireNonNull(shape, "shape");
        if (codebook.length == 0 || codebook.length > 256) {
            throw new IllegalArgumentException(
                    "codebook must have 1 to 256 entries, got " + codebook.length + ".");
        }
        for (int i = 0; i < codebook.length; i++) {
            if (!Float.isFinite(codebook[i]) || (i > 0 && codebook[i] < codebook[i - 1])) {
                throw new IllegalArgumentException(
                        "codebook must be finite and non-decreasing, codebook["
                                + i
                                + "] = "
                                + codebook[i]
                                + ".");
            }
        }
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != indices.length) {
            throw new IllegalArgumentException(
                    "shape "
                            + Arrays.toString(shape)
                            + " needs "
                            + n
                            + " indices, got "
                            + indices.length
                            + ".");
        }
        for (int i = 0; i < indices.length; i++) {
            if ((indices[i] & 0xFF) >= codebook.length) {
                throw new IllegalArgumentException(
                        "indices["
                                + i
                                + "] = "
                                + (indices[i] & 0xFF)
                                + " is outside a codebook of "
                                + codebook.length
                                + " entries.");
            }
        }
        this.codebook = codebook.clone();
        this.indices = indices.clone();
        this.shape = shape.clone();
    }

    /**
     * Returns a copy of the codebook.
     *
     * @return the codebook
     */
    public float[] getCodebook() {
        return codebook.clone();
    }

    /**
     * Returns a copy of the indices (unsigned bytes).
     *
     * @return the indices
     */
    public byte[] getIndices() {
        return indices.clone();
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the shape
     */
    public long[] getShape() {
        return shape.clone();
    }

    /**
     * Returns the values the codebook and indices stand for.
     *
     * @return the values in row-major order
     */
    public float[] dequantize() {
        float[] x = new float[indices.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = codebook[indices[i] & 0xFF];
        }
        return x;
    }

    /**
     * Returns the values as a FLOAT32 NDArray, looked up on the engine.
     *
     * @param manager the manager of the result
     * @return the values
     */
    public NDArray dequantize(NDManager manager) {
        NDArray result;
        try (NDManager scope = manager.newSubManager()) {
            NDArray table = scope.create(codebook);
            NDArray idx = scope.create(ByteBuffer.wrap(indices), new Shape(shape), DataType.UINT8);
            result = table.take(idx.toType(DataType.INT64, false)).reshape(new Shape(shape));
            result.attach(manager);
        }
        return result;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CodebookTensor)) {
            return false;
        }
        CodebookTensor c = (CodebookTensor) o;
        return Arrays.equals(codebook, c.codebook)
                && Arrays.equals(indices, c.indices)
                && Arrays.equals(shape, c.shape);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(
                Arrays.hashCode(codebook), Arrays.hashCode(indices), Arrays.hashCode(shape));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "CodebookTensor " + Arrays.toString(shape) + " with " + codebook.length + " codes";
    }
}
