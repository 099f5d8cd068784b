package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.List;
import java.util.Objects;

/**
 * The mode chosen for one layer and why, with the measurements it was chosen from.
 *
 * @param mode STATIC, DYNAMIC, FP32 or a weight-only mode
 * @param reason why, one sentence
 * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
 * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
 * @param speeds the layer's int8 block against its fp32 block at each serving batch size (the
 *     int8 mode it runs in, or the one turned down for speed); empty if it was not timed
 * @param weightOnlySqnr the weight-only block's output SQNR in dB, NaN if not measured
 */
@Internal
public record ModeDecision(
        QuantizationMode mode,
        String reason,
        double staticSqnr,
        double dynamicSqnr,
        List<SpeedComparison> speeds,
        double weightOnlySqnr) {

    /**
     * Checks the decision: a mode that runs (not AUTO) and a reason.
     *
     * @param mode STATIC, DYNAMIC or FP32
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     * @param speeds the timings, possibly empty
     * @param weightOnlySqnr the weight-only SQNR in dB, NaN if not measured
     */
    public ModeDecision {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(reason, "reason");
        speeds = List.copyOf(speeds);
        if (mode == QuantizationMode.AUTO) {
            throw new IllegalArgumentException("a decision is a mode that runs, not AUTO.");
        }
    }

    /**
     * A decision without a weight-only measurement.
     *
     * @param mode the mode
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     * @param speeds the timings, possibly empty
     */
    public ModeDecision(
            QuantizationMode mode,
            String reason,
            double staticSqnr,
            double dynamicSqnr,
            List<SpeedComparison> speeds) {
        this(mode, reason, staticSqnr, dynamicSqnr, speeds, Double.NaN);
    }

    /**
     * A decision that was not timed.
     *
     * @param mode STATIC, DYNAMIC or FP32
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     */
    public ModeDecision(QuantizationMode mode, String reason, double staticSqnr, double dynamicSqnr) {
        this(mode, reason, staticSqnr, dynamicSqnr, List.of(), Double.NaN);
    }

    /**
     * Returns this decision with another mode and reason, the measurements kept.
     *
     * @param newMode the mode
     * @param newReason why
     * @param newSpeeds the timings
     * @return the new decision
     */
    public ModeDecision with(QuantizationMode newMode, String newReason, List<SpeedComparison> newSpeeds) {
        return new ModeDecision(newMode, newReason, staticSqnr, dynamicSqnr, newSpeeds, weightOnlySqnr);
    }

    /**
     * Returns this decision with a weight-only mode, its SQNR and its timings, the int8
     * measurements kept.
     *
     * @param newMode a weight-only mode (or FP32 where it could not be built)
     * @param newReason why
     * @param sqnr the weight-only output SQNR in dB, NaN if not measured
     * @param newSpeeds the weight-only block's timings, possibly empty
     * @return the new decision
     */
    public ModeDecision withWeightOnly(
            QuantizationMode newMode, String newReason, double sqnr, List<SpeedComparison> newSpeeds) {
        return new ModeDecision(newMode, newReason, staticSqnr, dynamicSqnr, newSpeeds, sqnr);
    }

    /**
     * Returns the output SQNR of the mode the layer runs in.
     *
     * @return the static, dynamic or weight-only SQNR in dB; NaN for FP32 or when not measured
     */
    public double chosenSqnr() {
        if (mode == QuantizationMode.STATIC) {
            return staticSqnr;
        }
        if (mode == QuantizationMode.DYNAMIC) {
            return dynamicSqnr;
        }
        return mode.isWeightOnly() ? weightOnlySqnr : Double.NaN;
    }
}
