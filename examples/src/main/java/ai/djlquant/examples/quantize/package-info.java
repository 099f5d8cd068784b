/**
 * Quantization of the reference models end to end: {@link
 * ai.djlquant.examples.quantize.QuantizeReferenceModels} loads each float model, quantizes a copy
 * with the default config on the committed calibration subset (through the serving translator),
 * and compares accuracy, size and speed with the harness.
 */
package ai.djlquant.examples.quantize;
