/**
 * The affine quantization math: {@link ai.djlquant.quant.QuantScheme} (the integer grid) and {@link
 * ai.djlquant.quant.QuantParams} (scales and zero points for one tensor), and the quantize and
 * dequantize operations on float arrays and DJL NDArrays ({@link
 * ai.djlquant.quant.AffineQuantizer}); {@link ai.djlquant.quant.Sqnr} to compare an approximation
 * with its reference.
 *
 * <p>This package knows nothing about blocks, models or engines; every other package may use it.
 */
package ai.djlquant.quant;
