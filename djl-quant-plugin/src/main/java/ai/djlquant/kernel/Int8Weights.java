package ai.djlquant.kernel;

import java.util.Arrays;

/**
 * The int8 weight of one layer with its per-output-channel scales and float bias, as a kernel takes
 * it: values row-major with the output channel first ({@code [N, K]} for Linear, {@code [O, C /
 * groups, (kh,) kw]} for convolutions), in the restricted range [-127, 127].
 *
 * <p>Instances are immutable (arrays are copied in and out).
 */
public final class Int8Weights {

    private final byte[] values;
    private final long[] shape;
    private final float[] scales;
    private final float[] bias;

    /**
     * Creates the weights.
     *
     * @param values the int8 values, row-major in {@code shape}
     * @param shape the shape, output channels first
     * @param scales one positive scale per output channel
     * @param bias one bias per output channel, or null for none
     * @throws IllegalArgumentException naming the field at fault
     */
    public Int8Weights(byte[] values, long[] shape, float[] scales, float[] bias) {
        if (shape.length < 2) {
            throw new IllegalArgumentException(
                    "weight shape must have at least 2 dimensions, got "
                            + Arrays.toString(shape)
                            + ".");
        }
        long count = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException(
                        "weight shape " + Arrays.toString(shape) + " has an empty dimension.");
            }
            count *= d;
        }
        if (count != values.length) {
            throw new IllegalArgumentException(
                    "weight shape "
                            + Arrays.toString(shape)
                            + " needs "
                            + count
                            + " values, got "
                            + values.length
                            + ".");
        }
        int out = Math.toIntExact(shape[0]);
        if (scales.length != out) {
            throw new IllegalArgumentException(
                    "weight needs one scale per output channel ("
                            + out
                            + "), got "
                            + scales.length
                            + ".");
        }
        for (int c = 0; c < out; c++) {
            if (!(scales[c] > 0f) || Float.isInfinite(scales[c])) {
                throw new IllegalArgumentException(
                        "weight scale of channel "
                                + c
                                + " must be finite and positive, got "
                                + scales[c]
                                + ".");
            }
        }
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException(
                    "bias needs one value per output channel ("
                            + out
                            + "), got "
                            + bias.length
                            + ".");
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] == Byte.MIN_VALUE) {
                // -128 breaks the symmetric grid and the 16-bit pair sums of non-VNNI CPUs
                throw new IllegalArgumentException(
                        "weight value -128 at index " + i + " is outside the grid [-127, 127].");
            }
        }
        this.values = values.clone();
        this.shape = shape.clone();
        this.scales = scales.clone();
        this.bias = bias == null ? new float[out] : bias.clone();
    }

    /**
     * Returns a copy of the int8 values.
     *
     * @return the values
     */
    public byte[] getValues() {
        return values.clone();
    }

    byte[] values() {
        return values;
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
     * Returns a copy of the per-channel scales.
     *
     * @return the scales
     */
    public float[] getScales() {
        return scales.clone();
    }

    float[] scales() {
        return scales;
    }

    /**
     * Returns a copy of the bias (zeros when the layer has none).
     *
     * @return the bias
     */
    public float[] getBias() {
        return bias.clone();
    }

    float[] bias() {
        return bias;
    }

    /**
     * Returns the number of output channels.
     *
     * @return the output channels
     */
    public int outputChannels() {
        return (int) shape[0];
    }

    /**
     * Returns the number of values per output channel.
     *
     * @return values per output channel
     */
    public int valuesPerChannel() {
        return values.length / (int) shape[0];
    }

    /**
     * Returns the sum of the int8 values of each output channel (the zero-point correction).
     *
     * @return one sum per output channel
     */
    public int[] channelSums() {
        int out = outputChannels();
        int per = valuesPerChannel();
        int[] sums = new int[out];
        for (int c = 0; c < out; c++) {
            int s = 0;
            for (int i = c * per, end = i + per; i < end; i++) {
                s += values[i];
            }
            sums[c] = s;
        }
        return sums;
    }
}
