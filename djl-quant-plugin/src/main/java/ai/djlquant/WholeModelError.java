package ai.djlquant;

/**
 * The whole model's output error after convert: the int8 model against the fp32 outputs recorded
 * during calibration.
 *
 * @param sqnrDb the SQNR in dB over every compared output value (float64 sums), NaN if not
 *     measured, +Infinity if exact
 * @param samples the samples compared
 * @param batches the batches compared
 * @param unmeasured why it could not be measured, or null
 */
record WholeModelError(double sqnrDb, long samples, long batches, String unmeasured) {

    /** Not measured, and why. */
    static WholeModelError unmeasured(String why) {
        return new WholeModelError(Double.NaN, 0, 0, why);
    }
}
