package ai.djlquant.nn;

import ai.djlquant.quant.QuantParams;

/**
 * The quantization options of the three int8 blocks' builders, documented once: each builder
 * implements these by handing them to its {@link Int8Options} (the builders extend different DJL
 * builders, so they cannot share a base class).
 *
 * @param <B> the builder's own type
 */
interface Int8BlockBuilder<B> {

    /**
     * Uses static quantization with fixed activation parameters ({@code
     * QuantScheme.uint8Activation(7 or 8)}, per tensor).
     *
     * @param params the activation parameters
     * @return this builder
     */
    B optActivationParams(QuantParams params);

    /**
     * Uses dynamic quantization: activation parameters from each input's minimum and maximum.
     *
     * @return this builder
     */
    B optDynamic();

    /**
     * Sets whether ReLU is applied to the output (default false).
     *
     * @param fusedRelu whether to fuse ReLU
     * @return this builder
     */
    B optFusedRelu(boolean fusedRelu);

    /**
     * Sets whether the weight gets one scale for the whole tensor instead of one per output channel
     * (default false: per channel).
     *
     * @param perTensor whether to quantize the weight per tensor
     * @return this builder
     */
    B optPerTensorWeights(boolean perTensor);
}
