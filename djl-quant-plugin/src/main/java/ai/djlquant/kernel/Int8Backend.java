package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;

/**
 * An int8 compute backend: it prepares {@link Int8Kernel}s for Linear layers and convolutions from
 * int8 weights.
 *
 * <p>Numerics shared by every backend: weights are signed 8-bit in [-127, 127] with one scale per
 * output channel; activations are unsigned, {@code q = clamp(rint(x * (1 / scale) + zeroPoint), 0,
 * qmax)} ({@link ActivationQuantization#quantize(float, float, int, int)}); products are
 * accumulated exactly in int32; the float output of channel {@code c} is {@code scale *
 * weightScale[c] * (acc - zeroPoint * sum(w[c])) + bias[c]}, then the fused activation, if any,
 * on that float ({@link FusedActivation#apply(float)}: ReLU or ReLU6).
 */
public interface Int8Backend {

    /**
     * Returns a short name for logs and reports ({@code "onednn"}, {@code "reference"}).
     *
     * @return the name
     */
    String getName();

    /**
     * Returns whether this backend runs native int8 kernels. A non-native backend is exact but
     * slow; the int8 blocks then run their fallback path instead.
     *
     * @return whether the kernels are native
     */
    boolean isNative();

    /**
     * Returns the widest activation grid this backend computes exactly: 8 ({@code [0, 255]}) where
     * the CPU multiplies u8 by s8 into 32 bits (VNNI), 7 ({@code [0, 127]}) where the hardware sums
     * pairs of products into saturating 16-bit lanes (AVX2 without VNNI). Wider activation
     * parameters given to such a backend are narrowed to this grid.
     *
     * @return 7 or 8
     */
    int getActivationBits();

    /**
     * Prepares a Linear layer: {@code y = x W^T + b} for inputs {@code [..., K]}.
     *
     * @param weights the int8 weight {@code [N, K]} with its scales and bias
     * @param activation the activation applied to the output
     * @return the kernel
     * @throws IllegalArgumentException if the weights are not two-dimensional
     */
    Int8Kernel newLinear(Int8Weights weights, FusedActivation activation);

    /**
     * Prepares a Linear layer with or without a fused ReLU.
     *
     * @param weights the int8 weight {@code [N, K]} with its scales and bias
     * @param fusedRelu whether ReLU is applied to the output
     * @return the kernel
     * @throws IllegalArgumentException if the weights are not two-dimensional
     */
    default Int8Kernel newLinear(Int8Weights weights, boolean fusedRelu) {
        return newLinear(weights, fusedRelu ? FusedActivation.RELU : FusedActivation.NONE);
    }

    /**
     * Prepares a 1-D or 2-D convolution for NCW / NCHW inputs.
     *
     * @param geometry the convolution's geometry
     * @param weights the int8 weight {@code [O, C / groups, (kh,) kw]} with its scales and bias
     * @param activation the activation applied to the output
     * @return the kernel
     * @throws IllegalArgumentException if the weights do not fit the geometry
     */
    Int8Kernel newConvolution(
            ConvGeometry geometry, Int8Weights weights, FusedActivation activation);

    /**
     * Prepares a convolution with or without a fused ReLU.
     *
     * @param geometry the convolution's geometry
     * @param weights the int8 weight {@code [O, C / groups, (kh,) kw]} with its scales and bias
     * @param fusedRelu whether ReLU is applied to the output
     * @return the kernel
     * @throws IllegalArgumentException if the weights do not fit the geometry
     */
    default Int8Kernel newConvolution(
            ConvGeometry geometry, Int8Weights weights, boolean fusedRelu) {
        return newConvolution(
                geometry, weights, fusedRelu ? FusedActivation.RELU : FusedActivation.NONE);
    }
}
