/**
 * The calibration scripts: {@link ai.djlquant.examples.quantize.QuantizeReferenceModel} quantizes a
 * reference model end to end (calibrate, measure fp32 vs int8, export, reload through Criteria,
 * compare), {@link ai.djlquant.examples.quantize.WrapPredictorExample} adds quantization to an
 * existing Criteria, ZooModel and Predictor flow.
 */
package ai.djlquant.examples.quantize;
