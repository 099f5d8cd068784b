package ai.djlquant.kernel;

/**
 * The weight of one weight-only Linear, quantized and packed as its {@link WeightOnlyFormat} says,
 * with its scales, offsets and bias: what a {@link WeightOnlyKernel} is built from, and what the
 * block saves.
 *
 * <p>{@link #quantize} is the one place a float weight becomes this format (the formulas are in
 * {@link WeightOnlyFormat}); {@link #dequantized} is the inverse the tests and the reference use.
 * Rounding is {@code Math.rint} (half to even), as everywhere in the library.
 */
public final class WeightOnlyWeights {

    private final WeightOnlyFormat format;
    private final int outputs;
    private final int inputs;
    private final byte[] values;
    private final float[] scales;
    private final float[] offsets;
    private final float[] bias;

    /**
     * Wraps quantized values (not copied).
     *
     * @param format the format
     * @param outputs the output channels N
     * @param inputs the input features K (a multiple of the group size for 4-bit)
     * @param values the packed values, {@code N * format.rowBytes(K)} bytes
     * @param scales {@code N * format.groups(K)} scales, row by row
     * @param offsets {@code N * groups} offsets for asymmetric 4-bit, else null
     * @param bias N values, or null
     * @throws IllegalArgumentException naming the array whose length does not fit
     */
    public WeightOnlyWeights(
            WeightOnlyFormat format,
            int outputs,
            int inputs,
            byte[] values,
            float[] scales,
            float[] offsets,
            float[] bias) {
        if (outputs <= 0 || inputs <= 0) {
            throw new IllegalArgumentException(
                    "a weight-only weight needs positive outputs and inputs, got ["
                            + outputs
                            + ", "
                            + inputs
                            + "].");
        }
        if (format.bits() == 4 && inputs % format.groupSize() != 0) {
            throw new IllegalArgumentException(
                    "a 4-bit weight in groups of "
                            + format.groupSize()
                            + " needs input features that are a multiple of it, got "
                            + inputs
                            + ".");
        }
        long groups = (long) outputs * format.groups(inputs);
        check("values", values.length, (long) outputs * format.rowBytes(inputs));
        check("scales", scales.length, groups);
        if (format.symmetric() != (offsets == null)) {
            throw new IllegalArgumentException(
                    format.symmetric()
                            ? "a symmetric weight-only weight has no offsets."
                            : "an asymmetric 4-bit weight needs one offset per group.");
        }
        if (offsets != null) {
            check("offsets", offsets.length, groups);
        }
        if (bias != null) {
            check("bias", bias.length, outputs);
        }
        this.format = format;
        this.outputs = outputs;
        this.inputs = inputs;
        this.values = values;
        this.scales = scales;
        this.offsets = offsets;
        this.bias = bias;
    }

    private static void check(String what, long got, long expected) {
        if (got != expected) {
            throw new IllegalArgumentException(
                    "weight-only " + what + " hold " + got + " values, expected " + expected + ".");
        }
    }

    /**
     * Quantizes a float weight {@code [N, K]} (row-major) into a format.
     *
     * <p>8-bit: {@code s[n] = max(max|w[n]| / 127, 2^-23)}, {@code q = clamp(rint(w / s), -127,
     * 127)}. 4-bit symmetric: {@code d = max(max|w| / 7, 2^-23)} over the group, {@code q =
     * clamp(rint(w / d) + 8, 0, 15)}. 4-bit asymmetric: {@code m = min(w)}, {@code d = max((max(w)
     * - m) / 15, 2^-23)}, {@code q = clamp(rint((w - m) / d), 0, 15)}.
     *
     * @param format the format
     * @param weight the weight, {@code N * K} values
     * @param outputs N
     * @param inputs K
     * @param bias N values, or null
     * @return the quantized weight
     */
    public static WeightOnlyWeights quantize(
            WeightOnlyFormat format, float[] weight, int outputs, int inputs, float[] bias) {
        if ((long) outputs * inputs != weight.length) {
            throw new IllegalArgumentException(
                    "a weight of "
                            + weight.length
                            + " values is not ["
                            + outputs
                            + ", "
                            + inputs
                            + "].");
        }
        if (format.bits() == 4 && inputs % format.groupSize() != 0) {
            throw new IllegalArgumentException(
                    "a 4-bit weight in groups of "
                            + format.groupSize()
                            + " needs input features that are a multiple of it, got "
                            + inputs
                            + ".");
        }
        int groups = format.groups(inputs);
        int len = format.bits() == 8 ? inputs : format.groupSize();
        byte[] values = new byte[(int) ((long) outputs * format.rowBytes(inputs))];
        float[] scales = new float[outputs * groups];
        float[] offsets = format.symmetric() ? null : new float[outputs * groups];
        int[] q = new int[len];
        for (int n = 0; n < outputs; n++) {
            for (int g = 0; g < groups; g++) {
                int base = n * inputs + g * len;
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                float amax = 0f;
                for (int k = 0; k < len; k++) {
                    float v = weight[base + k];
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                    amax = Math.max(amax, Math.abs(v));
                }
                float s;
                if (format.bits() == 8) {
                    s = Math.max(amax / 127f, MIN_SCALE);
                    for (int k = 0; k < len; k++) {
                        q[k] = clamp((int) Math.rint(weight[base + k] / s), -127, 127);
                    }
                } else if (format.symmetric()) {
                    s = Math.max(amax / 7f, MIN_SCALE);
                    for (int k = 0; k < len; k++) {
                        q[k] = clamp((int) Math.rint(weight[base + k] / s) + 8, 0, 15);
                    }
                } else {
                    s = Math.max((hi - lo) / 15f, MIN_SCALE);
                    offsets[n * groups + g] = lo;
                    for (int k = 0; k < len; k++) {
                        q[k] = clamp((int) Math.rint((weight[base + k] - lo) / s), 0, 15);
                    }
                }
                scales[n * groups + g] = s;
                if (format.bits() == 8) {
                    for (int k = 0; k < len; k++) {
                        values[base + k] = (byte) q[k];
                    }
                } else {
                    int half = len / 2;
                    int at = (n * inputs + g * len) / 2;
                    for (int j = 0; j < half; j++) {
                        values[at + j] = (byte) (q[j] | (q[j + half] << 4));
                    }
                }
            }
        }
        return new WeightOnlyWeights(format, outputs, inputs, values, scales, offsets, bias);
    }

    /** The smallest scale, as {@code AffineQuantizer.MIN_SCALE}: a zero group stays valid. */
    static final float MIN_SCALE = 0x1p-23f;

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /**
     * Returns the integer stored for one weight: {@code q} of the formulas in {@link
     * WeightOnlyFormat} ({@code [-127, 127]} for 8-bit, {@code [0, 15]} for 4-bit).
     *
     * @param n the output channel
     * @param k the input feature
     * @return the stored integer
     */
    public int stored(int n, int k) {
        if (format.bits() == 8) {
            return values[n * inputs + k];
        }
        int gs = format.groupSize();
        int g = k / gs;
        int j = k % gs;
        int half = gs / 2;
        int b = values[(n * inputs + g * gs) / 2 + (j < half ? j : j - half)] & 0xFF;
        return j < half ? b & 15 : b >>> 4;
    }

    /**
     * Returns one weight dequantized by the format's formula, in float32 (as the kernels see it).
     *
     * @param n the output channel
     * @param k the input feature
     * @return the weight's value
     */
    public float dequantized(int n, int k) {
        int q = stored(n, k);
        if (format.bits() == 8) {
            return scales[n] * q;
        }
        int g = n * format.groups(inputs) + k / format.groupSize();
        return format.symmetric() ? scales[g] * (q - 8) : scales[g] * q + offsets[g];
    }

    /**
     * Returns the format.
     *
     * @return the format
     */
    public WeightOnlyFormat format() {
        return format;
    }

    /**
     * Returns the output channels N.
     *
     * @return N
     */
    public int outputs() {
        return outputs;
    }

    /**
     * Returns the input features K.
     *
     * @return K
     */
    public int inputs() {
        return inputs;
    }

    /**
     * Returns the packed values (not a copy).
     *
     * @return the values
     */
    public byte[] values() {
        return values;
    }

    /**
     * Returns the scales, {@code N * groups}, row by row (not a copy).
     *
     * @return the scales
     */
    public float[] scales() {
        return scales;
    }

    /**
     * Returns the offsets of asymmetric 4-bit weights (not a copy).
     *
     * @return the offsets, or null
     */
    public float[] offsets() {
        return offsets;
    }

    /**
     * Returns the bias (not a copy).
     *
     * @return the bias, or null
     */
    public float[] bias() {
        return bias;
    }
}
