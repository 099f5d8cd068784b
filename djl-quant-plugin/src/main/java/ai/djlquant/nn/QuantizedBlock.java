package ai.djlquant.nn;

import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

/**
 * What every int8 block tells about its quantization, so that code walking a block tree (the
 * report, the exporter) can ask any of them the same way.
 */
public interface QuantizedBlock {

    /**
     * Returns the activation parameters of static mode.
     *
     * @return the parameters, or null in dynamic mode
     */
    QuantParams getActivationParams();

    /**
     * Returns the per-output-channel weight parameters.
     *
     * @return the weight parameters
     */
    QuantParams getWeightParams();

    /**
     * Returns whether activation parameters are computed from each input.
     *
     * @return whether the block quantizes dynamically
     */
    boolean isDynamic();

    /**
     * Returns whether ReLU (and not ReLU6) is applied to the output.
     *
     * @return whether ReLU is fused
     */
    boolean isFusedRelu();

    /**
     * Returns the activation applied to the output: {@link FusedActivation#RELU} exactly where
     * {@link #isFusedRelu()} is true, {@link FusedActivation#RELU6} for a fused ReLU6.
     *
     * @return the fused activation
     */
    default FusedActivation getFusedActivation() {
        return isFusedRelu() ? FusedActivation.RELU : FusedActivation.NONE;
    }
}
