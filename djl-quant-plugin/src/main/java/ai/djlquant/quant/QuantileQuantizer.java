package ai.djlquant.quant;

/**
 * Non-uniform quantizer with equal-population bins: the sorted values are cut into {@code 2^bits}
 * runs of (nearly) equal count, and each codebook entry is the mean of its run (the value that
 * minimises the squared error inside the run). Every value is then stored as its nearest entry.
 * Dense regions get fine levels, tails coarse ones; deterministic, no iterations.
 */
public final class QuantileQuantizer implements NonUniformQuantizer {

    private final int bits;

    private QuantileQuantizer(Builder b) {
        bits = b.bits;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public int getBits() {
        return bits;
    }

    /** {@inheritDoc} */
    @Override
    public CodebookTensor quantize(float[] values, long[] shape) {
        SortedValues s = SortedValues.of(values, shape);
        int n = s.size();
        int k = Math.min(1 << bits, n);
        float[] codebook = new float[k];
        for (int j = 0; j < k; j++) {
            int from = (int) ((long) j * n / k);
            int to = (int) ((long) (j + 1) * n / k);
            codebook[j] = (float) s.mean(from, to);
        }
        // float rounding of neighbouring means can break the order by one ulp
        for (int j = 1; j < k; j++) {
            codebook[j] = Math.max(codebook[j], codebook[j - 1]);
        }
        return new CodebookTensor(codebook, SortedValues.assign(values, codebook), shape);
    }

    /** Builds a {@link QuantileQuantizer}. */
    public static final class Builder {

        private int bits;

        private Builder() {}

        /**
         * Sets the index bit width (required, 1 to 8).
         *
         * @param bits the bit width
         * @return this builder
         */
        public Builder setBits(int bits) {
            this.bits = bits;
            return this;
        }

        /**
         * Validates the settings and builds the quantizer.
         *
         * @return the quantizer
         * @throws IllegalArgumentException naming the field at fault
         */
        public QuantileQuantizer build() {
            SortedValues.checkBits(bits);
            return new QuantileQuantizer(this);
        }
    }
}
