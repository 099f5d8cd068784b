package ai.djlquant;

import ai.djl.nn.Block;
import ai.djlquant.plan.ModeDecision;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.QuantParams;

/**
 * A layer with its mode decided: the decision, the block that runs from now on and what the
 * decision was made from.
 *
 * @param observed the layer as calibration saw it
 * @param decision its mode and why, with the measured SQNRs
 * @param activationParams the static activation parameters the estimator chose (null where there
 *     were no finite inputs or the layer was not observed)
 * @param finalBlock the block that takes the layer's place: its int8 block, or its float block
 * @param statistics what calibration recorded for it (null where it was not observed)
 * @param measuredSamples the number of input samples the SQNRs were measured on
 * @param screen what its kept inputs looked like (non-finite batches, an outlier range)
 * @param turnedDown the int8 block the accuracy rule chose and the speed rule turned down, kept
 *     for the plan check; null if speed changed nothing
 */
record DecidedLayer(
        ObservedLayer observed,
        ModeDecision decision,
        QuantParams activationParams,
        Block finalBlock,
        CalibrationStatistics statistics,
        long measuredSamples,
        KeptInputScreen screen,
        TurnedDown turnedDown) {

    /**
     * What the accuracy rule wanted for a layer that the speed rule turned down.
     *
     * @param block the int8 block it chose (its ReLU fused as the layer allows)
     * @param decision its decision, with the timings that turned it down
     */
    record TurnedDown(Block block, ModeDecision decision) {}

    /** This layer with another decision and final block; nothing is turned down any more. */
    DecidedLayer with(ModeDecision newDecision, Block newFinalBlock) {
        return new DecidedLayer(
                observed,
                newDecision,
                activationParams,
                newFinalBlock,
                statistics,
                measuredSamples,
                screen,
                null);
    }

    /** This layer with what the speed rule turned down set again (after {@link #with}). */
    DecidedLayer withTurnedDown(TurnedDown down) {
        return new DecidedLayer(
                observed,
                decision,
                activationParams,
                finalBlock,
                statistics,
                measuredSamples,
                screen,
                down);
    }

    /** The mode the layer runs in now. */
    QuantizationMode mode() {
        return decision.mode();
    }

    /** The prepared layer. */
    PreparedLayer layer() {
        return observed.layer();
    }

    /** Whether the final block is an int8 block with the ReLU after it fused (weight-only blocks fuse nothing). */
    boolean fusesRelu() {
        return observed.isObserved() && mode().isInt8() && layer().hasRelu();
    }
}
