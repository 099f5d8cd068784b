/**
 * Post-training int8 quantization for DJL models: {@link ai.djlquant.Quantizer#quantize} takes a
 * model, a {@link ai.djlquant.CalibrationData} source and a {@link
 * ai.djlquant.QuantizationConfig}, rewrites the model's block tree in place (int8 Linear and
 * convolution blocks, BatchNorms folded, ReLUs fused, layers that int8 would hurt left fp32), and
 * returns a {@link ai.djlquant.QuantizationReport}.
 *
 * <p>The packages below do the parts: {@code quant} (affine math), {@code observe} (observers and
 * range estimators), {@code kernel} (int8 kernels), {@code nn} (int8 and observer blocks), {@code
 * transform} (tree walk, rewrite, folding), {@code plan} (per-layer decisions).
 */
package ai.djlquant;
