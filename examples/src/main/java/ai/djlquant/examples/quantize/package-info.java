/**
 * Quantization of the reference models end to end: {@link
 * ai.djlquant.examples.quantize.QuantizeReferenceModels} loads each float model, quantizes a copy
 * with the default config on the committed calibration subset (through the serving translator),
 * and compares accuracy, size and speed with the harness; {@link
 * ai.djlquant.examples.quantize.QuantizeReferenceModel} is the calibration script of one model
 * (quantize, measure, export the artifact, reload it through Criteria, compare the outputs bit
 * for bit); {@link ai.djlquant.examples.quantize.WrapPredictorExample} adds quantization to an
 * existing Criteria, ZooModel and Predictor flow.
 */
package ai.djlquant.examples.quantize;
