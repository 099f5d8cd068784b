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
    default void forward(
            ByteBuffer input,
            long[] inputShape,
            boolean inputChannelsLast,
            ActivationQuantization activation,
            ByteBuffer output,
            boolean outputChannelsLast,
            int threads) {
        forward(
                input,
                inputShape,
                inputChannelsLast,
                false,
                activation,
                output,
                outputChannelsLast,
                null,
                threads);
    }

    /**
     * Runs the layer with either side in uint8 on a static grid, the link of an int8 chain.
     *
     * <p>A quantized input ({@code inputQuantized}) is one byte per value, already on the static
     * grid {@code activation} names (its bits at most the backend's activation bits): no quantize
     * step runs. An output grid ({@code outputGrid}, static) makes the layer write one byte per
     * value, {@code clamp(rint(act(y) * (1 / s_out) + zp_out), 0, qmax_out)} in float32 ({@link
     * ActivationQuantization#quantize}), where {@code act(y)} is the float32 value the layer would
     * otherwise write; see {@link ReferenceKernel} for the operation order.
     *
     * @param input the input: float32 in native byte order, or uint8 when {@code inputQuantized}
     * @param inputShape the input shape
     * @param inputChannelsLast whether a convolution's input memory is channels-last
     * @param inputQuantized whether the input is uint8 on the grid of {@code activation}
     * @param activation how the input is quantized, static when {@code inputQuantized}
     * @param output where the output goes: float32, or uint8 when {@code outputGrid} is given
     * @param outputChannelsLast whether a convolution writes channels-last memory
     * @param outputGrid the static grid the output is requantized to, or null for float32
     * @param threads the number of threads the native library should use, or 0 for its default
     * @throws IllegalArgumentException if the shape does not fit, a buffer is too small, or a grid
     *     is dynamic where it must be static or wider than the backend runs
     */
    void forward(
            ByteBuffer input,
            long[] inputShape,
            boolean inputChannelsLast,
            boolean inputQuantized,
            ActivationQuantization activation,
            ByteBuffer output,
            boolean outputChannelsLast,
            ActivationQuantization outputGrid,
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
