package ai.djlquant;

import ai.djlquant.observe.Observer;

/**
 * What calibration recorded for one observed layer, once the pass is over.
 *
 * @param activation the activation observer (the static parameters are estimated from it)
 * @param calls the number of forward calls it saw
 * @param unsupportedInput why its input cannot go through an int8 block, or null
 * @param inputNonFinite the NaN and infinite input values seen (skipped by the observer)
 * @param outputNonFinite the NaN and infinite fp32 output values seen
 * @param input the finite input range seen, or null (none, or an observer that keeps no range)
 * @param output the finite fp32 output range seen, or null
 */
record CalibrationStatistics(
        Observer activation,
        long calls,
        String unsupportedInput,
        long inputNonFinite,
        long outputNonFinite,
        LayerReport.Range input,
        LayerReport.Range output) {}
