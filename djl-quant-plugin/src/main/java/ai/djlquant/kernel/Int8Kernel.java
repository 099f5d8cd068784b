package ai.djlquant.kernel;

import java.nio.ByteBuffer;

/**
 * One prepared int8 layer (weights packed once), runnable on inputs of any batch size.
 *
 * <p>Kernels are thread-safe: one kernel may run on many threads at once. Native state that is not
 * (scratch buffers, streams) is kept per concurrent call.
 */
public interface Int8Kernel extends AutoCloseable {

    /**
     * Returns the output shape for an input shape.
     *
     * @param inputShape the input shape ({@code [..., K]} for Linear, {@code [N, C, (H,) W]} for
     *     convolutions)
     * @return the output shape
     * @throws IllegalArgumentException naming the dimension that does not fit
     */
    long[] outputShape(long[] inputShape);

    /**
     * Runs the layer on float32 input in row-major (NCHW / NCW) layout; see {@link
     * #forward(ByteBuffer, long[], boolean, ActivationQuantization, ByteBuffer, boolean, int)}.
     *
     * @param input the input values, float32 in native byte order
     * @param inputShape the input shape
     * @param activation how the input is quantized
     * @param output where the float32 output goes
     * @param threads the number of native threads, or 0 for the default
     */
    default void forward(
            ByteBuffer input,
            long[] inputShape,
            ActivationQuantization activation,
            ByteBuffer output,
            int threads) {
        forward(input, inputShape, false, activation, output, false, threads);
    }

    /**
     * Runs the layer on float32 input: quantizes the activations, multiplies in int8, and writes
     * float32 output.
     *
     * <p>Convolutions can read and write channels-last memory (NHWC, NWC: the layout oneDNN's int8
     * convolutions run in), which saves a transposition on each side; shapes stay the logical
     * {@code [N, C, (H,) W]}.
     *
     * @param input the input values, float32 in native byte order, row-major in {@code inputShape},
     *     from the buffer's position
     * @param inputShape the input shape
     * @param inputChannelsLast whether a convolution's input memory is channels-last
     * @param activation how the input is quantized (fixed parameters or from the live range)
     * @param output where the float32 output goes, row-major in {@link #outputShape}, from the
     *     buffer's position
     * @param outputChannelsLast whether a convolution writes channels-last memory
     * @param threads the number of threads the native library should use, or 0 for its default
     * @throws IllegalArgumentException if the shape does not fit or a buffer is too small
     */
    void forward(
            ByteBuffer input,
            long[] inputShape,
            boolean inputChannelsLast,
            ActivationQuantization activation,
            ByteBuffer output,
            boolean outputChannelsLast,
            int threads);

    /**
     * Describes how an input of this shape is computed (implementation names), for logs.
     *
     * @param inputShape the input shape
     * @return a one-line description
     */
    String describe(long[] inputShape);

    /** Releases native memory; the kernel must not be used afterwards. */
    @Override
    void close();
}
