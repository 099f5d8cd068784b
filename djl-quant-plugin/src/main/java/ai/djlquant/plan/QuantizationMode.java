package ai.djlquant.plan;

import java.util.Locale;

/**
 * How one layer runs after quantization.
 *
 * <p>Int8 modes ({@link #STATIC}, {@link #DYNAMIC}) quantize weights and activations and run
 * integer matmuls; weight-only modes ({@code WEIGHT_*}, Linear layers only) quantize the weight
 * alone and keep float32 activations and accumulation: at small batch a Linear's time is the
 * reading of its weight, which they shrink to a quarter (8-bit) or an eighth (4-bit), with no
 * activation grid to calibrate. Each mode has a short word ({@link #word()}: {@code static}, {@code
 * w8}, {@code w4g64}, {@code w4g64m}) that the command line and path rules accept ({@link
 * #fromWord}).
 */
public enum QuantizationMode {
    /**
     * Chosen per layer from measurements on the calibration data (see {@link ModeChooser}): {@link
     * #STATIC}, {@link #DYNAMIC} or {@link #FP32}, or the weight-only mode the configuration offers
     * AUTO where it is measured faster.
     */
    AUTO("auto", 0, 0, true),
    /** int8, activation parameters fixed from calibration: the fastest. */
    STATIC("static", 0, 0, true),
    /** int8, activation parameters from each input's own range. */
    DYNAMIC("dynamic", 0, 0, true),
    /** The float layer stays (BatchNorm still folded into it). */
    FP32("fp32", 0, 0, true),
    /** Weight-only: 8-bit weight, one scale per output channel, float32 activations. */
    WEIGHT_INT8("w8", 8, 0, true),
    /** Weight-only: 4-bit weight, one scale per 32 inputs ({@code w = d * (q - 8)}, Q4_0). */
    WEIGHT_INT4_G32("w4g32", 4, 32, true),
    /** Weight-only: 4-bit weight, one scale per 64 inputs ({@code w = d * (q - 8)}, Q4_0). */
    WEIGHT_INT4_G64("w4g64", 4, 64, true),
    /** Weight-only: 4-bit weight, one scale per 128 inputs ({@code w = d * (q - 8)}, Q4_0). */
    WEIGHT_INT4_G128("w4g128", 4, 128, true),
    /** Weight-only: 4-bit weight, a scale and a minimum per 32 inputs ({@code w = d * q + m}, Q4_1). */
    WEIGHT_INT4_G32_MIN("w4g32m", 4, 32, false),
    /** Weight-only: 4-bit weight, a scale and a minimum per 64 inputs ({@code w = d * q + m}, Q4_1). */
    WEIGHT_INT4_G64_MIN("w4g64m", 4, 64, false),
    /**
     * Weight-only: 4-bit weight, a scale and a minimum per 128 inputs ({@code w = d * q + m},
     * Q4_1).
     */
    WEIGHT_INT4_G128_MIN("w4g128m", 4, 128, false);

    private final String word;
    private final int weightBits;
    private final int groupSize;
    private final boolean symmetricWeights;

    QuantizationMode(String word, int weightBits, int groupSize, boolean symmetricWeights) {
        this.word = word;
        this.weightBits = weightBits;
        this.groupSize = groupSize;
        this.symmetricWeights = symmetricWeights;
    }

    /**
     * Returns the mode's short word, as the command line and the report spell it.
     *
     * @return for example {@code static}, {@code w8}, {@code w4g64m}
     */
    public String word() {
        return word;
    }

    /**
     * Returns whether the mode quantizes the weight only (float32 activations).
     *
     * @return whether it is a {@code WEIGHT_*} mode
     */
    public boolean isWeightOnly() {
        return weightBits != 0;
    }

    /**
     * Returns whether the mode runs int8 activations (and so can fuse a following ReLU).
     *
     * @return whether it is STATIC or DYNAMIC
     */
    public boolean isInt8() {
        return this == STATIC || this == DYNAMIC;
    }

    /**
     * Returns the bits per weight of a weight-only mode.
     *
     * @return 8 or 4, 0 for the other modes
     */
    public int weightBits() {
        return weightBits;
    }

    /**
     * Returns the inputs that share one scale in a 4-bit weight-only mode.
     *
     * @return 32, 64 or 128; 0 for 8-bit weight-only (one scale per output channel) and the other
     *     modes
     */
    public int groupSize() {
        return groupSize;
    }

    /**
     * Returns whether a weight-only mode has no per-group offset.
     *
     * @return false for the {@code _MIN} modes, true otherwise
     */
    public boolean symmetricWeights() {
        return symmetricWeights;
    }

    /**
     * Reads a mode from its word ({@code w4g64}) or its name ({@code WEIGHT_INT4_G64}), ignoring
     * case.
     *
     * @param text the word or name
     * @return the mode
     * @throws IllegalArgumentException naming the text and the words accepted
     */
    public static QuantizationMode fromWord(String text) {
        String t = text.trim();
        for (QuantizationMode m : values()) {
            if (m.word.equalsIgnoreCase(t) || m.name().equalsIgnoreCase(t)) {
                return m;
            }
        }
        StringBuilder words = new StringBuilder();
        for (QuantizationMode m : values()) {
            words.append(words.length() == 0 ? "" : ", ").append(m.word);
        }
        throw new IllegalArgumentException(
                "'" + text + "' is not a mode: " + words.toString().toLowerCase(Locale.ROOT) + ".");
    }
}
