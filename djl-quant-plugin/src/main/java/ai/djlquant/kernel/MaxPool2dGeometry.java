package ai.djlquant.kernel;

import java.util.Arrays;

/**
 * The windows of a 2-D max pooling: kernel {@code (kh, kw)}, stride {@code (sh, sw)}, padding
 * {@code (ph, pw)} on each side, dilation 1, and the rounding of the output size (floor, or ceil
 * mode), as PyTorch's {@code max_pool2d} defines them (which DJL's {@code Pool.maxPool2d} calls).
 *
 * <p>Along an axis of input size {@code H} (kernel {@code k}, stride {@code s}, padding {@code p}):
 *
 * <pre>
 * OH = floor((H + 2p - k + (ceil ? s - 1 : 0)) / s) + 1
 *      minus 1 in ceil mode when (OH - 1) * s &gt;= H + p   (the last window would start in the padding)
 * window(o) = [max(o * s - p, 0), min(o * s - p + k, H))   (padding never counts: clipped, not zero)
 * </pre>
 *
 * which needs {@code OH >= 1}; and {@code 2p <= k} (PyTorch's own rule) keeps every window
 * non-empty.
 *
 * @param kh the kernel height
 * @param kw the kernel width
 * @param sh the stride along the height
 * @param sw the stride along the width
 * @param ph the padding at the top and the bottom
 * @param pw the padding at the left and the right
 * @param ceilMode whether the output size rounds up (with PyTorch's rule for the last window)
 */
public record MaxPool2dGeometry(int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {

    /**
     * Checks the geometry.
     *
     * @param kh the kernel height
     * @param kw the kernel width
     * @param sh the stride along the height
     * @param sw the stride along the width
     * @param ph the padding at the top and the bottom
     * @param pw the padding at the left and the right
     * @param ceilMode whether the output size rounds up
     * @throws IllegalArgumentException if a kernel size or stride is below 1, a padding is negative
     *     or more than half its kernel size
     */
    public MaxPool2dGeometry {
        if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || 2 * ph > kh || 2 * pw > kw) {
            throw new IllegalArgumentException(
                    "max pooling needs kernel and stride sizes of at least 1 and paddings of at most"
                            + " half the kernel size, got "
                            + this
                            + ".");
        }
    }

    /**
     * Returns the output shape for an NCHW input shape.
     *
     * @param inputShape {@code [N, C, H, W]}
     * @return {@code [N, C, OH, OW]}
     * @throws IllegalArgumentException if the shape is not 4-D or too small for a window
     */
    public long[] outputShape(long[] inputShape) {
        if (inputShape.length != 4) {
            throw new IllegalArgumentException(
                    "2-D max pooling takes [N, C, H, W] input, got " + Arrays.toString(inputShape) + ".");
        }
        long oh = outputSize(inputShape[2], kh, sh, ph);
        long ow = outputSize(inputShape[3], kw, sw, pw);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(
                    "input "
                            + Arrays.toString(inputShape)
                            + " is too small for "
                            + this
                            + ": the output would be "
                            + oh
                            + "x"
                            + ow
                            + ".");
        }
        return new long[] {inputShape[0], inputShape[1], oh, ow};
    }

    private long outputSize(long size, int k, int s, int p) {
        long out = Math.floorDiv(size + 2L * p - k + (ceilMode ? s - 1 : 0), s) + 1;
        if (ceilMode && (out - 1) * s >= size + p) {
            out--;
        }
        return out;
    }

    /**
     * The first input row (or column) of output position {@code o}'s window.
     *
     * @param o the output position
     * @param s the stride along the axis
     * @param p the padding along the axis
     * @return the first index, clipped to 0
     */
    static long windowStart(long o, int s, int p) {
        return Math.max(o * s - p, 0);
    }

    /**
     * The index after the last input row (or column) of output position {@code o}'s window.
     *
     * @param o the output position
     * @param k the kernel size along the axis
     * @param s the stride along the axis
     * @param p the padding along the axis
     * @param size the input size along the axis
     * @return the end index, clipped to {@code size}
     */
    static long windowEnd(long o, int k, int s, int p, long size) {
        return Math.min(o * s - p + k, size);
    }
}
