package ai.djlquant.kernel;

/**
 * How a weight-only layer stores its weight: 8-bit per output channel, or 4-bit in groups of
 * {@code groupSize} consecutive inputs of one output channel, with one scale per group and, when
 * asymmetric, one offset per group.
 *
 * <p>The value of a weight (row {@code n}, input {@code k}, group {@code g = k / groupSize}):
 *
 * <ul>
 *   <li>8-bit: {@code w[n][k] = s[n] * q[n][k]}, {@code q} in {@code [-127, 127]};
 *   <li>4-bit symmetric (llama.cpp's Q4_0): {@code w[n][k] = d[n][g] * (q[n][k] - 8)}, {@code q} in
 *       {@code [0, 15]}, {@code d = max|w| / 7} over the group (so {@code q - 8} spans {@code [-7,
 *       7]}, and 0 is exact);
 *   <li>4-bit asymmetric (Q4_1): {@code w[n][k] = d[n][g] * q[n][k] + m[n][g]}, {@code q} in
 *       {@code [0, 15]}, {@code m} the group's minimum and {@code d = (max - min) / 15}.
 * </ul>
 *
 * <p>4-bit values are packed two per byte, group by group: byte {@code j} of a group ({@code j <
 * groupSize / 2}) holds element {@code j} in its low nibble and element {@code j + groupSize / 2}
 * in its high nibble (Q4_0's layout), so a vector kernel unpacks a run of bytes into two runs of
 * consecutive elements.
 *
 * @param bits 8 or 4
 * @param groupSize 0 for 8-bit (one scale per output channel), else 32, 64 or 128
 * @param symmetric whether there is no per-group offset (always true for 8-bit)
 */
public record WeightOnlyFormat(int bits, int groupSize, boolean symmetric) {

    /** 8-bit weights, one scale per output channel. */
    public static final WeightOnlyFormat INT8 = new WeightOnlyFormat(8, 0, true);

    /**
     * Checks the format.
     *
     * @param bits 8 or 4
     * @param groupSize 0 for 8-bit, else 32, 64 or 128
     * @param symmetric whether there is no per-group offset
     * @throws IllegalArgumentException if the bits, group size or symmetry are not one of the
     *     supported formats
     */
    public WeightOnlyFormat {
        boolean ok =
                bits == 8
                        ? groupSize == 0 && symmetric
                        : bits == 4 && (groupSize == 32 || groupSize == 64 || groupSize == 128);
        if (!ok) {
            throw new IllegalArgumentException(
                    "weight-only formats are 8-bit per channel or 4-bit in groups of 32, 64 or 128,"
                            + " got "
                            + bits
                            + " bits, group "
                            + groupSize
                            + (symmetric ? ", symmetric." : ", asymmetric."));
        }
    }

    /**
     * Returns a 4-bit group-wise format.
     *
     * @param groupSize 32, 64 or 128
     * @param symmetric whether groups have no offset (Q4_0) or a minimum (Q4_1)
     * @return the format
     */
    public static WeightOnlyFormat int4(int groupSize, boolean symmetric) {
        return new WeightOnlyFormat(4, groupSize, symmetric);
    }

    /**
     * Returns the number of scale groups of one output channel of {@code k} inputs.
     *
     * @param k the input features
     * @return 1 for 8-bit, {@code k / groupSize} for 4-bit
     */
    public int groups(long k) {
        return bits == 8 ? 1 : (int) (k / groupSize);
    }

    /**
     * Returns the bytes one output channel of {@code k} inputs takes.
     *
     * @param k the input features
     * @return {@code k} for 8-bit, {@code k / 2} for 4-bit
     */
    public long rowBytes(long k) {
        return bits == 8 ? k : k / 2;
    }

    /**
     * Returns the short name used in mode words, benchmark ops and the report: {@code w8}, {@code
     * w4g64}, {@code w4g64m} (asymmetric).
     *
     * @return the name
     */
    public String shortName() {
        return bits == 8 ? "w8" : "w4g" + groupSize + (symmetric ? "" : "m");
    }
}
