package ai.djlquant;

import java.util.List;

/**
 * What the calibration pass ran.
 *
 * @param samples the samples run
 * @param batches the batches run
 * @param largestBatch the most samples in one batch (the calibration batch size)
 * @param seconds its wall-clock time
 */
record CalibrationRun(long samples, long batches, int largestBatch, double seconds) {

    /**
     * The batch sizes the model is planned for: the config's, or 1 and the calibration batch
     * size.
     */
    List<Integer> servingBatchSizes(QuantizationConfig config) {
        if (!config.getServingBatchSizes().isEmpty()) {
            return config.getServingBatchSizes();
        }
        return largestBatch <= 1 ? List.of(1) : List.of(1, largestBatch);
    }
}
