/**
 * Int8 GEMM and convolution backends: unsigned 8-bit activations times signed 8-bit weights,
 * accumulated exactly in int32, with a float32 output that applies per-channel scales, bias, the
 * activation zero point and an optional fused ReLU.
 *
 * <p>{@link ai.djlquant.kernel.Int8Backends#get()} picks the backend once per JVM: oneDNN (through
 * the JavaCPP presets) when its native library loads, otherwise the pure-Java {@link
 * ai.djlquant.kernel.ReferenceBackend}. Both implement {@link ai.djlquant.kernel.Int8Backend}; the
 * tests hold the oneDNN integers to the reference bit for bit.
 *
 * <p>This package knows nothing about blocks, models or observers; it works on native buffers and
 * plain arrays.
 */
@Internal
package ai.djlquant.kernel;

import ai.djlquant.annotations.Internal;
