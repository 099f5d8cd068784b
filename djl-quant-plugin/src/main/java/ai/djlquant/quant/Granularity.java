package ai.djlquant.quant;

/** How many (scale, zero point) pairs a tensor gets, and along which elements they are shared. */
public enum Granularity {
    /** One scale and zero point for the whole tensor. */
    PER_TENSOR,
    /** One pair per index of one axis (for weights: the output-channel axis). */
    PER_CHANNEL,
    /**
     * One pair per block of {@code groupSize} consecutive elements along one axis, separately for
     * every index of the other axes (llama.cpp's Q4_0 / Q8_0 blocks are groups of 32 along the
     * input-feature axis).
     */
    PER_GROUP
}
