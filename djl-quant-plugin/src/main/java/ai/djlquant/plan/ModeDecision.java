package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.Objects;

/** The mode chosen for one layer and why, with the measurements it was chosen from. */
@Internal
public final class ModeDecision {

    private final QuantizationMode mode;
    private final String reason;
    private final double staticSqnr;
    private final double dynamicSqnr;

    /**
     * Creates a decision.
     *
     * @param mode STATIC, DYNAMIC or FP32
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     */
    public ModeDecision(
            QuantizationMode mode, String reason, double staticSqnr, double dynamicSqnr) {
        if (mode == QuantizationMode.AUTO) {
            throw new IllegalArgumentException("a decision is STATIC, DYNAMIC or FP32, not AUTO.");
        }
        this.mode = Objects.requireNonNull(mode, "mode");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.staticSqnr = staticSqnr;
        this.dynamicSqnr = dynamicSqnr;
    }

    /**
     * Returns the mode.
     *
     * @return STATIC, DYNAMIC or FP32
     */
    public QuantizationMode getMode() {
        return mode;
    }

    /**
     * Returns why the mode was chosen.
     *
     * @return the reason
     */
    public String getReason() {
        return reason;
    }

    /**
     * Returns the static int8 output SQNR against fp32, in dB.
     *
     * @return the SQNR, NaN if not measured
     */
    public double getStaticSqnr() {
        return staticSqnr;
    }

    /**
     * Returns the dynamic int8 output SQNR against fp32, in dB.
     *
     * @return the SQNR, NaN if not measured
     */
    public double getDynamicSqnr() {
        return dynamicSqnr;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return mode + " (" + reason + ")";
    }
}
