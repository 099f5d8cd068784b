/**
 * The int8 blocks: {@link ai.djlquant.nn.QuantizedLinear}, {@link ai.djlquant.nn.QuantizedConv2d}
 * and {@link ai.djlquant.nn.QuantizedConv1d}, real DJL blocks that run the {@code kernel} package's
 * int8 kernels, save and load their quantization parameters with their weights, and subclass the
 * float block they replace wherever DJL allows it.
 *
 * <p>The observer blocks ({@link ai.djlquant.nn.ObservedLinear}, {@link
 * ai.djlquant.nn.ObservedConv2d}, {@link ai.djlquant.nn.ObservedConv1d}) stand in for a float layer
 * during calibration: they run it and hand its inputs and outputs to a {@link
 * ai.djlquant.nn.ForwardTap}, since DJL has no forward hooks.
 *
 * <p>This package knows nothing about calibration or planning: a block is built from an initialised
 * float block plus its activation parameters (static) or in dynamic mode.
 */
package ai.djlquant.nn;
