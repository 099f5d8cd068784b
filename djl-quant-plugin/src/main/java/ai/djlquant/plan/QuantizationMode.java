package ai.djlquant.plan;

/** How one layer runs after quantization. */
public enum QuantizationMode {
    /**
     * Chosen per layer from measurements on the calibration data (see {@link ModeChooser}): {@link
     * #STATIC}, {@link #DYNAMIC} or {@link #FP32}.
     */
    AUTO,
    /** int8, activation parameters fixed from calibration: the fastest. */
    STATIC,
    /** int8, activation parameters from each input's own range. */
    DYNAMIC,
    /** The float layer stays (BatchNorm still folded into it). */
    FP32
}
