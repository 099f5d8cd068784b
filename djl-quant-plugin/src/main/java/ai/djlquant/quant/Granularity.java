package ai.djlquant.quant;

/** How many (scale, zero point) pairs a tensor gets, and along which elements they are shared. */
public enum Granularity {
    /** One scale and zero point for the whole tensor. */
    PER_TENSOR,
    /** One pair per index of one axis (for weights: the output-channel axis). */
    PER_CHANNEL
}
