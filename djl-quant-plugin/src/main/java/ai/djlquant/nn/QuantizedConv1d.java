package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * An int8 {@link Conv1d} on NCW input: weight INT8 with one scale per output channel, the input
 * quantized to unsigned integers (static or dynamic), oneDNN's int8 convolution (stride, padding,
 * dilation, groups, depthwise) with exact int32 accumulation, float32 NCW output.
 *
 * <p>It is a {@link Convolution}, not a {@link Conv1d}: DJL's Conv1d has only a package-private
 * constructor, so no class outside DJL can extend it (a package-private base class gives it the NCW
 * layout Conv1d has). It fits wherever a Convolution is typed.
 *
 * <p>Parameters keep the float block's names ({@code weight} INT8, {@code bias} FLOAT32); the
 * quantization parameters are saved in the block's metadata.
 *
 * <pre>{@code
 * QuantizedConv1d q = QuantizedConv1d.builder()
 *         .setFloatBlock(conv)            // an initialised Conv1d
 *         .optActivationParams(params)    // static, or .optDynamic()
 *         .optFusedRelu(true)
 *         .build();
 * }</pre>
 *
 * <p>For loading, build an empty block with the float block's structure ({@code setKernelShape},
 * {@code setFilters}, {@code optStride}, ...) and call {@code loadParameters}.
 */
public class QuantizedConv1d extends NcwConvolution implements QuantizedBlock {

    private static final byte VERSION = 1;
    private static final String TYPE = "QuantizedConv1d";

    private final Int8ConvParts parts;

    QuantizedConv1d(Builder builder) {
        super(builder);
        version = VERSION;
        parts = new Int8ConvParts(TYPE, this, Conv1d::conv1d);
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
        throw parts.core.notInitialised("float Conv1d");
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

    /** Builds a {@link QuantizedConv1d} from a float {@link Conv1d}, or empty for loading. */
    public static final class Builder extends Convolution.ConvolutionBuilder<Builder> {

        private Conv1d floatBlock;
        private final Int8Options options = new Int8Options();

        Builder() {
            stride = new Shape(1);
            padding = new Shape(0);
            dilation = new Shape(1);
        }

        /**
         * Sets the initialised float block to convert; its structure is copied and its weight
         * quantized per output channel.
         *
         * @param conv the float block
         * @return this builder
         */
        public Builder setFloatBlock(Conv1d conv) {
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
        public QuantizedConv1d build() {
            Int8ConvParts.prepareBuild(floatBlock, this, options, TYPE);
            validate();
            return new QuantizedConv1d(this);
        }
    }
}
