package ai.djlquant.kernel;

import java.util.Arrays;

/**
 * The geometry of a 1-D or 2-D convolution, in PyTorch's terms: symmetric zero padding, dilation 1
 * for a dense kernel, {@code groups == inChannels == outChannels} for depthwise.
 *
 * <p>Instances are immutable and validated.
 */
public final class ConvGeometry {

    private final int inChannels;
    private final int outChannels;
    private final int groups;
    private final long[] kernel;
    private final long[] stride;
    private final long[] padding;
    private final long[] dilation;

    /**
     * Creates a geometry; the four arrays have one entry per spatial dimension (1 or 2).
     *
     * @param inChannels input channels
     * @param outChannels output channels
     * @param groups groups, dividing both channel counts
     * @param kernel kernel size
     * @param stride stride, at least 1
     * @param padding zero padding on each side, at least 0
     * @param dilation dilation, at least 1
     * @throws IllegalArgumentException naming the value at fault
     */
    public ConvGeometry(
            int inChannels,
            int outChannels,
            int groups,
            long[] kernel,
            long[] stride,
            long[] padding,
            long[] dilation) {
        int dims = kernel.length;
        if (dims < 1 || dims > 2) {
            throw new IllegalArgumentException(
                    "only 1-D and 2-D convolutions are supported, got a kernel of "
                            + Arrays.toString(kernel)
                            + ".");
        }
        if (stride.length != dims || padding.length != dims || dilation.length != dims) {
            throw new IllegalArgumentException(
                    "kernel, stride, padding and dilation must have "
                            + dims
                            + " entries each, got "
                            + Arrays.toString(stride)
                            + ", "
                            + Arrays.toString(padding)
                            + ", "
                            + Arrays.toString(dilation)
                            + ".");
        }
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(
                    "groups ("
                            + groups
                            + ") must divide the input ("
                            + inChannels
                            + ") and output ("
                            + outChannels
                            + ") channels.");
        }
        for (int i = 0; i < dims; i++) {
            if (kernel[i] < 1 || stride[i] < 1 || padding[i] < 0 || dilation[i] < 1) {
                throw new IllegalArgumentException(
                        "invalid convolution geometry: kernel "
                                + Arrays.toString(kernel)
                                + ", stride "
                                + Arrays.toString(stride)
                                + ", padding "
                                + Arrays.toString(padding)
                                + ", dilation "
                                + Arrays.toString(dilation)
                                + ".");
            }
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.groups = groups;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
    }

    /**
     * Returns the number of spatial dimensions, 1 or 2.
     *
     * @return 1 or 2
     */
    public int spatialDims() {
        return kernel.length;
    }

    /**
     * Returns the input channels.
     *
     * @return the input channels
     */
    public int getInChannels() {
        return inChannels;
    }

    /**
     * Returns the output channels.
     *
     * @return the output channels
     */
    public int getOutChannels() {
        return outChannels;
    }

    /**
     * Returns the number of groups.
     *
     * @return the groups
     */
    public int getGroups() {
        return groups;
    }

    /**
     * Returns a copy of the kernel size.
     *
     * @return the kernel size
     */
    public long[] getKernel() {
        return kernel.clone();
    }

    /**
     * Returns a copy of the stride.
     *
     * @return the stride
     */
    public long[] getStride() {
        return stride.clone();
    }

    /**
     * Returns a copy of the padding.
     *
     * @return the padding
     */
    public long[] getPadding() {
        return padding.clone();
    }

    /**
     * Returns a copy of the dilation.
     *
     * @return the dilation
     */
    public long[] getDilation() {
        return dilation.clone();
    }

    /**
     * Returns the weight shape this geometry needs: {@code [O, C / groups, (kh,) kw]}.
     *
     * @return the weight shape
     */
    public long[] weightShape() {
        long[] s = new long[2 + kernel.length];
        s[0] = outChannels;
        s[1] = inChannels / groups;
        System.arraycopy(kernel, 0, s, 2, kernel.length);
        return s;
    }

    /**
     * Returns the output shape for an input shape {@code [N, C, (H,) W]}, as PyTorch computes it.
     *
     * @param input the input shape
     * @return the output shape
     * @throws IllegalArgumentException naming the dimension that does not fit
     */
    public long[] outputShape(long[] input) {
        if (input.length != 2 + kernel.length) {
            throw new IllegalArgumentException(
                    "a "
                            + kernel.length
                            + "-D convolution needs a rank-"
                            + (2 + kernel.length)
                            + " input "
                            + (kernel.length == 1 ? "[N, C, W]" : "[N, C, H, W]")
                            + ", got shape "
                            + Arrays.toString(input)
                            + ".");
        }
        if (input[1] != inChannels) {
            throw new IllegalArgumentException(
                    "the convolution expects "
                            + inChannels
                            + " input channels, got shape "
                            + Arrays.toString(input)
                            + ".");
        }
        long[] out = new long[input.length];
        out[0] = input[0];
        out[1] = outChannels;
        for (int i = 0; i < kernel.length; i++) {
            long span = dilation[i] * (kernel[i] - 1) + 1;
            long o = (input[2 + i] + 2 * padding[i] - span) / stride[i] + 1;
            if (input[2 + i] + 2 * padding[i] < span || o < 1) {
                throw new IllegalArgumentException(
                        "input shape "
                                + Arrays.toString(input)
                                + " is smaller than the dilated kernel "
                                + Arrays.toString(kernel)
                                + " with padding "
                                + Arrays.toString(padding)
                                + ".");
            }
            out[2 + i] = o;
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "conv(in="
                + inChannels
                + ", out="
                + outChannels
                + ", groups="
                + groups
                + ", kernel="
                + Arrays.toString(kernel)
                + ", stride="
                + Arrays.toString(stride)
                + ", padding="
                + Arrays.toString(padding)
                + ", dilation="
                + Arrays.toString(dilation)
                + ")";
    }
}
