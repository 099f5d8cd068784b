package ai.djlquant;

import ai.djl.ndarray.NDList;

import java.util.List;

/**
 * Calibration batches and the fp32 model's outputs on them, recorded during the calibration pass
 * for the whole-model check.
 *
 * @param inputs the batches, as the source gave them
 * @param outputs the fp32 model's outputs, one list per batch
 * @param samples the rows of all batches
 */
record ReferenceOutputs(List<NDList> inputs, List<NDList> outputs, long samples) {}
