package ai.djlquant.nn;

import ai.djlquant.quant.QuantParams;

/**
 * What a weight-only block tells about its weight, so that the report and the exporter can ask it
 * the way they ask a {@link QuantizedBlock}. Activations stay float32: there are no activation
 * parameters, nothing is fused.
 */
public interface WeightOnlyBlock {

    /**
     * Returns the bits per weight.
     *
     * @return 8 or 4
     */
    int getWeightBits();

    /**
     * Returns the number of consecutive inputs of one output channel that share a scale.
     *
     * @return 0 for 8-bit (one scale per output channel), else 32, 64 or 128
     */
    int getGroupSize();

    /**
     * Returns whether the weight has no per-group offset ({@code w = d * (q - 8)} for 4-bit, {@code
     * w = s * q} for 8-bit) or one ({@code w = d * q + m}).
     *
     * @return whether it is symmetric
     */
    boolean isSymmetric();

    /**
     * Returns the weight scales: one per output channel (8-bit) or one per group, row by row.
     *
     * @return a copy of the scales
     */
    float[] getWeightScales();

    /**
     * Returns the per-group offsets of an asymmetric 4-bit weight.
     *
     * @return a copy of the offsets, or null when symmetric
     */
    float[] getWeightOffsets();

    /**
     * Returns the weight's parameters as a {@link QuantParams}: for 8-bit the int8 blocks' scheme
     * (symmetric per channel, {@code [-127, 127]}) with its scales; group-wise 4-bit weights have no
     * such form (a scale per group, and offsets that are not integers).
     *
     * @return the parameters, or null for 4-bit weights
     */
    QuantParams getWeightParams();

    /**
     * Returns the format's short name: {@code w8}, {@code w4g64}, {@code w4g64m} (asymmetric).
     *
     * @return the name
     */
    String getFormatName();
}
