package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.List;
import java.util.Objects;

/**
 * The mode chosen for one layer and why, with the measurements it was chosen from.
 *
 * @param mode STATIC, DYNAMIC or FP32
 * @param reason why, one sentence
 * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
 * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
 * @param speeds the layer's int8 block against its fp32 block at each serving batch size (the
 *     int8 mode it runs in, or the one turned down for speed); empty if it was not timed
 */
@Internal
public record ModeDecision(
        QuantizationMode mode,
        String reason,
        double staticSqnr,
        double dynamicSqnr,
        List<SpeedComparison> speeds) {

    /**
     * Checks the decision: a mode that runs (not AUTO) and a reason.
     *
     * @param mode STATIC, DYNAMIC or FP32
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     * @param speeds the timings, possibly empty
     */
    public ModeDecision {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(reason, "reason");
        speeds = List.copyOf(speeds);
        if (mode == QuantizationMode.AUTO) {
            throw new IllegalArgumentException("a decision is STATIC, DYNAMIC or FP32, not AUTO.");
        }
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
        this(mode, reason, staticSqnr, dynamicSqnr, List.of());
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
        return new ModeDecision(newMode, newReason, staticSqnr, dynamicSqnr, newSpeeds);
    }
}
