package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * A quantizer that picks its own levels (a codebook) instead of a uniform grid: for weight
 * compression, where a heavy-tailed weight wastes most levels of a uniform grid on its tails. Every
 * element is stored as the index of its nearest codebook entry.
 */
public interface NonUniformQuantizer {

    /**
     * Returns the bit width of the indices; the codebook has at most {@code 2^bits} entries.
     *
     * @return the bit width, 1 to 8
     */
    int getBits();

    /**
     * Quantizes values to a codebook and indices.
     *
     * @param values the values in row-major order, all finite
     * @param shape the tensor's shape
     * @return the codebook tensor
     * @throws IllegalArgumentException if a value is NaN or infinite, there are no values, or the
     *     shape does not match
     */
    CodebookTensor quantize(float[] values, long[] shape);

    /**
     * Quantizes a weight tensor; its values are copied to Java once (compression is an offline step
     * over the weight, not a per-request one).
     *
     * @param weight the weight, any floating-point type
     * @return the codebook tensor
     * @throws IllegalArgumentException as {@link #quantize(float[], long[])}
     */
    default CodebookTensor quantize(NDArray weight) {
        if (!weight.getDataType().isFloating()) {
            throw new IllegalArgumentException(
                    "weight must hold floating-point values, got " + weight.getDataType() + ".");
        }
        float[] values;
        try (NDManager scope = weight.getManager().newSubManager()) {
            weight.tempAttach(scope);
            values = weight.toType(DataType.FLOAT32, false).toFloatArray();
        }
        return quantize(values, weight.getShape().getShape());
    }
}
