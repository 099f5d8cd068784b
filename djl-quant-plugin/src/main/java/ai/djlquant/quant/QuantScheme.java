package ai.djlquant.quant;

import java.util.Objects;

/**
 * The integer grid a tensor is quantized to: bit width, signedness, symmetric or asymmetric,
 * full or restricted range, and granularity. A scheme holds no numbers from data; {@link
 * QuantParams} pairs a scheme with the scales and zero points computed for one tensor.
 *
 * <p>Schemes are immutable and validated when built: an invalid combination fails in {@link
 * Builder#build()} with a message that names the field at fault.
 *
 * <p>Integer ranges:
 *
 * <ul>
 *   <li>signed, full range: [-2<sup>b-1</sup>, 2<sup>b-1</sup>-1] (int8: [-128, 127]);
 *   <li>signed, restricted range: [-(2<sup>b-1</sup>-1), 2<sup>b-1</sup>-1] (int8: [-127, 127]),
 *       so that negating a quantized value never overflows;
 *   <li>unsigned: [0, 2<sup>b</sup>-1] (7-bit unsigned, [0, 127], is the activation grid that
 *       keeps u8&middot;s8 integer products exact on CPUs without VNNI).
 * </ul>
 */
public final class QuantScheme {

    /** Smallest supported bit width. */
    public static final int MIN_BITS = 2;
    /** Largest supported bit width (values are stored in 8-bit integers). */
    public static final int MAX_BITS = 8;

    private final int bits;
    private final boolean signed;
    private final boolean symmetric;
    private final boolean restrictedRange;
    private final Granularity granularity;
    private final int axis;

    private QuantScheme(Builder b) {
        bits = b.bits;
        signed = b.signed;
        symmetric = b.symmetric;
        restrictedRange = b.restrictedRange;
        granularity = b.granularity;
        axis = b.axis;
    }

    /**
     * Returns the weight scheme the int8 blocks use: signed 8-bit, symmetric, restricted range
     * [-127, 127], one scale per output channel.
     *
     * @param axis the output-channel axis of the weight (0 for DJL's Linear and Convolution)
     * @return the scheme
     */
    public static QuantScheme int8WeightPerChannel(int axis) {
        return builder()
                .optBits(8)
                .optSigned(true)
                .optSymmetric(true)
                .optRestrictedRange(true)
                .optPerChannel(axis)
                .build();
    }

    /**
     * Returns the activation scheme the int8 blocks use: unsigned, asymmetric, per tensor.
     *
     * @param bits 8 for the full uint8 range, 7 for [0, 127] (PyTorch's {@code reduce_range})
     * @return the scheme
     */
    public static QuantScheme uint8Activation(int bits) {
        return builder().optBits(bits).optSigned(false).optSymmetric(false).build();
    }

    /**
     * Creates a builder; defaults are signed 8-bit, asymmetric, full range, per tensor.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder initialised with this scheme's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bits = bits;
        b.signed = signed;
        b.symmetric = symmetric;
        b.restrictedRange = restrictedRange;
        b.granularity = granularity;
        b.axis = axis;
        return b;
    }

    /**
     * Returns the bit width, 2 to 8.
     *
     * @return the bit width
     */
    public int getBits() {
        return bits;
    }

    /**
     * Returns whether the integers are signed.
     *
     * @return whether the integers are signed
     */
    public boolean isSigned() {
        return signed;
    }

    /**
     * Returns whether the grid is symmetric around zero (zero point 0).
     *
     * @return whether the scheme is symmetric
     */
    public boolean isSymmetric() {
        return symmetric;
    }

    /**
     * Returns whether a signed grid drops its most negative value.
     *
     * @return whether the range is restricted
     */
    public boolean isRestrictedRange() {
        return restrictedRange;
    }

    /**
     * Returns the granularity.
     *
     * @return the granularity
     */
    public Granularity getGranularity() {
        return granularity;
    }

    /**
     * Returns the axis of per-channel parameters, or -1 for per tensor.
     *
     * @return the axis, or -1
     */
    public int getAxis() {
        return axis;
    }

    /**
     * Returns the smallest integer of the grid.
     *
     * @return the smallest integer
     */
    public int qmin() {
        if (!signed) {
            return 0;
        }
        int m = -(1 << (bits - 1));
        return restrictedRange ? m + 1 : m;
    }

    /**
     * Returns the largest integer of the grid.
     *
     * @return the largest integer
     */
    public int qmax() {
        return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof QuantScheme)) {
            return false;
        }
        QuantScheme s = (QuantScheme) o;
        return bits == s.bits
                && signed == s.signed
                && symmetric == s.symmetric
                && restrictedRange == s.restrictedRange
                && granularity == s.granularity
                && axis == s.axis;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(bits, signed, symmetric, restrictedRange, granularity, axis);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(signed ? "int" : "uint").append(bits);
        sb.append(symmetric ? " symmetric" : " asymmetric");
        if (restrictedRange) {
            sb.append(" restricted");
        }
        sb.append(" [").append(qmin()).append(", ").append(qmax()).append("] ");
        if (granularity == Granularity.PER_TENSOR) {
            sb.append("per-tensor");
        } else {
            sb.append("per-channel(axis=").append(axis).append(')');
        }
        return sb.toString();
    }

    /** Builds a {@link QuantScheme}. */
    public static final class Builder {

        private int bits = 8;
        private boolean signed = true;
        private boolean symmetric;
        private boolean restrictedRange;
        private Granularity granularity = Granularity.PER_TENSOR;
        private int axis = -1;

        private Builder() {}

        /**
         * Sets the bit width (2 to 8; default 8).
         *
         * @param bits the bit width
         * @return this builder
         */
        public Builder optBits(int bits) {
            this.bits = bits;
            return this;
        }

        /**
         * Sets whether the integers are signed (default true).
         *
         * @param signed whether the integers are signed
         * @return this builder
         */
        public Builder optSigned(boolean signed) {
            this.signed = signed;
            return this;
        }

        /**
         * Sets whether the grid is symmetric, zero point 0 (default false). Symmetric grids must be
         * signed.
         *
         * @param symmetric whether the grid is symmetric
         * @return this builder
         */
        public Builder optSymmetric(boolean symmetric) {
            this.symmetric = symmetric;
            return this;
        }

        /**
         * Sets whether a signed grid drops its most negative value (default false).
         *
         * @param restrictedRange whether the range is restricted
         * @return this builder
         */
        public Builder optRestrictedRange(boolean restrictedRange) {
            this.restrictedRange = restrictedRange;
            return this;
        }

        /**
         * Uses one scale and zero point for the whole tensor (the default).
         *
         * @return this builder
         */
        public Builder optPerTensor() {
            granularity = Granularity.PER_TENSOR;
            axis = -1;
            return this;
        }

        /**
         * Uses one scale and zero point per index of {@code axis}.
         *
         * @param axis the channel axis (non-negative)
         * @return this builder
         */
        public Builder optPerChannel(int axis) {
            granularity = Granularity.PER_CHANNEL;
            this.axis = axis;
            return this;
        }


        /**
         * Validates the settings and builds the scheme.
         *
         * @return the scheme
         * @throws IllegalArgumentException naming the field at fault
         */
        public QuantScheme build() {
            if (bits < MIN_BITS || bits > MAX_BITS) {
                throw new IllegalArgumentException(
                        "bits must be between "
                                + MIN_BITS
                                + " and "
                                + MAX_BITS
                                + ", got "
                                + bits
                                + ".");
            }
            if (symmetric && !signed) {
                throw new IllegalArgumentException(
                        "symmetric requires signed=true: a symmetric grid is centred on zero"
                                + " (got an unsigned "
                                + bits
                                + "-bit grid).");
            }
            if (restrictedRange && !signed) {
                throw new IllegalArgumentException(
                        "restrictedRange applies to signed grids only (got an unsigned "
                                + bits
                                + "-bit grid).");
            }
            if (granularity != Granularity.PER_TENSOR && axis < 0) {
                throw new IllegalArgumentException(
                        "axis must be non-negative for " + granularity + ", got " + axis + ".");
            }
            return new QuantScheme(this);
        }
    }
}
