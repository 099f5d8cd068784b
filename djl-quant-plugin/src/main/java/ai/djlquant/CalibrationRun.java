package ai.djlquant;

/**
 * What the calibration pass ran.
 *
 * @param samples the samples run
 * @param batches the batches run
 * @param seconds its wall-clock time
 */
record CalibrationRun(long samples, long batches, double seconds) {}
