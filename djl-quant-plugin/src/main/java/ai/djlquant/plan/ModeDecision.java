package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.Objects;

/**
 * The mode chosen for one layer and why, with the measurements it was chosen from.
 *
 * @param mode STATIC, DYNAMIC or FP32
 * @param reason why, one sentence
 * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
 * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
 */
@Internal
public record ModeDecision(QuantizationMode mode, String reason, double staticSqnr, double dynamicSqnr) {

    /**
     * Checks the decision: a mode that runs (not AUTO) and a reason.
     *
     * @param mode STATIC, DYNAMIC or FP32
     * @param reason why, one sentence
     * @param staticSqnr the static int8 output SQNR in dB, NaN if not measured
     * @param dynamicSqnr the dynamic int8 output SQNR in dB, NaN if not measured
     */
    public ModeDecision {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(reason, "reason");
        if (mode == QuantizationMode.AUTO) {
            throw new IllegalArgumentException("a decision is STATIC, DYNAMIC or FP32, not AUTO.");
        }
    }
}
