package ai.djlquant.nn;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * DJL's batch flatten as the step of an int8 chain between its last convolution and its first
 * Linear layer ({@link DjlBatchFlatten#identify}): the convolution's NHWC bytes, already on the
 * Linear's grid, reordered to the row-major order a flatten of the NCHW tensor has,
 *
 * <pre>
 * out[n, (c * H + h) * W + w] = in[n, h, w, c]
 * </pre>
 *
 * which is what PyTorch's reshape of the channels-last view copies, one byte per value instead of
 * four; quantizing commutes with any reordering, so the Linear reads the bytes it would have
 * quantized itself. Its output is not channels-last ({@link #channelsLastOutput}).
 */
final class FlattenStep implements GridStep {

    /** {@inheritDoc} */
    @Override
    public long[] outputShape(long[] inputShape) {
        if (inputShape.length != 4) {
            throw new IllegalArgumentException(
                    "the flatten between a convolution and a Linear layer takes [N, C, H, W], got "
                            + Arrays.toString(inputShape)
                            + ".");
        }
        return new long[] {inputShape[0], inputShape[1] * inputShape[2] * inputShape[3]};
    }

    /** {@inheritDoc} */
    @Override
    public boolean channelsLastOutput() {
        return false;
    }

    /** {@inheritDoc} */
    @Override
    public void forward(ByteBuffer input, long[] inputShape, ByteBuffer output) {
        outputShape(inputShape);
        int n = Math.toIntExact(inputShape[0]);
        int c = Math.toIntExact(inputShape[1]);
        int hw = Math.toIntExact(inputShape[2] * inputShape[3]);
        int image = Math.multiplyExact(c, hw);
        if (input.remaining() < (long) n * image || output.remaining() < (long) n * image) {
            throw new IllegalArgumentException(
                    "flattening " + Arrays.toString(inputShape) + " needs " + (long) n * image
                            + " bytes on each side, got " + input.remaining() + " and "
                            + output.remaining() + ".");
        }
        // one image at a time through heap arrays: bulk copies in and out, the transpose between
        byte[] in = new byte[image];
        byte[] out = new byte[image];
        for (int b = 0; b < n; b++) {
            input.get(input.position() + b * image, in);
            for (int p = 0; p < hw; p++) {
                int from = p * c;
                for (int ch = 0; ch < c; ch++) {
                    out[ch * hw + p] = in[from + ch];
                }
            }
            output.put(output.position() + b * image, out);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "batchFlatten";
    }
}
