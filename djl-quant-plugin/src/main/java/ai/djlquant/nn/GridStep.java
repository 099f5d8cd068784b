package ai.djlquant.nn;

import java.nio.ByteBuffer;

/**
 * A step of an int8 chain between two of its layers that maps uint8 bytes on one grid to uint8
 * bytes on the same grid, channels-last (NHWC) on its input side (and on its output side but for
 * a flatten, {@link #channelsLastOutput}): the layer before it writes on the
 * grid of the layer after it, the step runs on those bytes, and the layer after reads them as its
 * quantized input.
 *
 * <p>A step may run on the bytes where it commutes with the quantization, {@code step(q(y)) ==
 * q(step(y))} for every float32 {@code y}, which makes the chained model equal the unchained one
 * bit for bit; max pooling does ({@link MaxPoolStep}). Glue that changes the grid (a residual add
 * with its own output scale, a concatenation of two grids) is a step of another kind.
 */
interface GridStep {

    /**
     * Returns the output shape for an input shape.
     *
     * @param inputShape the logical input shape, {@code [N, C, H, W]}
     * @return the logical output shape
     * @throws IllegalArgumentException naming the shape that does not fit
     */
    long[] outputShape(long[] inputShape);

    /**
     * Returns whether the output bytes are channels-last, as a convolution after the step reads
     * them; false for a flatten, whose row-major {@code [N, C * H * W]} bytes a Linear reads.
     *
     * @return whether the output is NHWC
     */
    default boolean channelsLastOutput() {
        return true;
    }

    /**
     * Runs the step.
     *
     * @param input the input bytes, NHWC, from the buffer's position
     * @param inputShape the logical input shape, {@code [N, C, H, W]}
     * @param output where the output bytes go, from the buffer's position: NHWC, or row-major
     *     where {@link #channelsLastOutput} is false
     * @throws IllegalArgumentException if the shape does not fit or a buffer is too small
     */
    void forward(ByteBuffer input, long[] inputShape, ByteBuffer output);
}
