package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * An int8 {@link Conv2d} on NCHW input: weight INT8 with one scale per output channel, the input
 * quantized to unsigned integers (static or dynamic), oneDNN's int8 convolution (stride, padding,
 * dilation, groups, depthwise) with exact int32 accumulation, float32 NCHW output. It extends
 * {@link Conv2d}, so it fits wherever a Conv2d is typed.
 *
 * <p>Parameters keep the float block's names ({@code weight} INT8, {@code bias} FLOAT32); the
 * quantization parameters are saved in the block's metadata.
 *
 * <pre>{@code
 * QuantizedConv2d q = QuantizedConv2d.builder()
 *         .setFloatBlock(conv)            // an initialised Conv2d
 *         .optActivationParams(params)    // static, or .optDynamic()
 *         .optFusedRelu(true)
 *         .build();
 * }</pre>
 *
 * <p>For loading, build an empty block with the float block's structure ({@code setKernelShape},
 * {@code setFilters}, {@code optStride}, ...) and call {@code loadParameters}.
 */
public class QuantizedConv2d extends Conv2d implements QuantizedBlock {

    private static final byte VERSION = 1;
    private static final String TYPE = "QuantizedConv2d";

    private final Int8ConvParts parts;

    QuantizedConv2d(Builder builder) {
        super(builder);
        version = VERSION;
        parts = new Int8ConvParts(TYPE, this, Conv2d::conv2d);
        Parameter[] wb = Int8Options.int8Parameters(parameters, includeBias);
        weight = wb[0];
        bias = wb[1];
        if (builder.floatBlock != null) {
            inputShapes = builder.options.convert(builder.floatBlock, parts.core, weight, bias);
        }
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
    public QuantParams getActivationParams() {
        return parts.core.activationParams();
    }

    /** {@inheritDoc} */
    @Override
    public QuantParams getWeightParams() {
        return parts.core.weightParams();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isDynamic() {
        return parts.core.isDynamic();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isFusedRelu() {
        return parts.core.isFusedRelu();
    }

    /** {@inheritDoc} */
    @Override
    public FusedActivation getFusedActivation() {
        return parts.core.fusedActivation();
    }

    /** The shared int8 part, for a chain that runs this block as one of its links. */
    Int8Core core() {
        return parts.core;
    }

    /** The INT8 weight parameter. */
    Parameter weightParameter() {
        return weight;
    }

    /** The bias parameter, or null. */
    Parameter biasParameter() {
        return bias;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return parts.forward(parameterStore, inputs, weight, bias);
    }

    /** {@inheritDoc} */
    @Override
    protected void prepare(Shape[] inputs) {
        throw parts.core.notInitialised("float Conv2d");
    }

    /** {@inheritDoc} */
    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        parts.saveMetadata(os);
        saveInputShapes(os);
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        parts.loadMetadata(loadVersion, VERSION, is);
        readInputShapes(is);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return parts.describe();
    }

    /** Builds a {@link QuantizedConv2d} from a float {@link Conv2d}, or empty for loading. */
    public static final class Builder extends Conv2d.Builder {

        private Conv2d floatBlock;
        private final Int8Options options = new Int8Options();

        Builder() {}

        /**
         * Sets the initialised float block to convert; its structure is copied and its weight
         * quantized per output channel.
         *
         * @param conv the float block
         * @return this builder
         */
        public Builder setFloatBlock(Conv2d conv) {
            this.floatBlock = conv;
            return this;
        }

        /**
         * Uses static quantization with fixed activation parameters ({@code
         * QuantScheme.uint8Activation(7 or 8)}, per tensor).
         *
         * @param params the activation parameters
         * @return this builder
         */
        public Builder optActivationParams(QuantParams params) {
            options.setActivationParams(params);
            return this;
        }

        /**
         * Uses dynamic quantization: activation parameters from each input's minimum and maximum.
         *
         * @return this builder
         */
        public Builder optDynamic() {
            options.setDynamic();
            return this;
        }

        /**
         * Sets whether ReLU is applied to the output (default false).
         *
         * @param fusedRelu whether to fuse ReLU
         * @return this builder
         */
        public Builder optFusedRelu(boolean fusedRelu) {
            options.setFusedRelu(fusedRelu);
            return this;
        }

        /**
         * Sets the activation applied to the output (default {@link FusedActivation#NONE}):
         * {@code RELU} as {@link #optFusedRelu(boolean)}, or {@code RELU6}, {@code min(max(y, 0),
         * 6)} on the float output.
         *
         * @param activation the fused activation
         * @return this builder
         * @throws IllegalArgumentException if {@code activation} is null
         */
        public Builder optFusedActivation(FusedActivation activation) {
            options.setFusedActivation(activation, TYPE);
            return this;
        }

        /**
         * Sets whether the weight gets one scale for the whole tensor instead of one per output
         * channel (default false: per channel).
         *
         * @param perTensor whether to quantize the weight per tensor
         * @return this builder
         */
        public Builder optPerTensorWeights(boolean perTensor) {
            options.setPerTensorWeights(perTensor);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder setKernelShape(Shape kernelShape) {
            super.setKernelShape(kernelShape);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder optStride(Shape stride) {
            super.optStride(stride);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder optPadding(Shape padding) {
            super.optPadding(padding);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder optDilation(Shape dilation) {
            super.optDilation(dilation);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder setFilters(int filters) {
            super.setFilters(filters);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder optGroups(int groups) {
            super.optGroups(groups);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public Builder optBias(boolean includeBias) {
            super.optBias(includeBias);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Builds the block.
         *
         * @return the block
         * @throws IllegalArgumentException if the float block is not initialised, the parameters do
         *     not fit, or an empty block lacks its kernel shape or filters
         */
        @Override
        public QuantizedConv2d build() {
            Int8ConvParts.prepareBuild(floatBlock, this, options, TYPE);
            validate();
            return new QuantizedConv2d(this);
        }
    }
}
