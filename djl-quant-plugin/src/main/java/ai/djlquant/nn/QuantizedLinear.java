package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Collections;

/**
 * An int8 {@link Linear}: {@code y = x W^T + b} with W stored as INT8 (one scale per output unit),
 * the input quantized to unsigned integers (static parameters from calibration, or from each
 * input's range), an int8 matmul with exact int32 accumulation on oneDNN, and float32 output. It
 * extends {@link Linear}, so it fits wherever a Linear is typed.
 *
 * <p>Parameters keep the float block's names: {@code weight} (now INT8, {@code [units, inputs]})
 * and {@code bias} (FLOAT32). Quantization parameters (mode, activation scale and zero point,
 * weight scales, fused ReLU) are saved in the block's metadata.
 *
 * <pre>{@code
 * QuantizedLinear q = QuantizedLinear.builder()
 *         .setFloatBlock(linear)          // an initialised Linear
 *         .optActivationParams(params)    // static, or .optDynamic()
 *         .optFusedRelu(true)
 *         .build();
 * }</pre>
 *
 * <p>To load saved parameters, build an empty block with the same structure ({@code
 * setUnits}/{@code optBias} instead of {@code setFloatBlock}) and call {@code loadParameters}.
 */
public class QuantizedLinear extends Linear implements QuantizedBlock {

    private static final byte VERSION = 1;
    private static final String TYPE = "QuantizedLinear";

    private final Int8Core core;
    private final Parameter int8Weight;
    private final Parameter floatBias;
    private long units;
    private long inputFeatures;

    QuantizedLinear(Builder builder) {
        super(builder);
        version = VERSION;
        units = builder.units();
        core = new Int8Core(TYPE, (backend, w, relu) -> backend.newLinear(w, relu), false);
        // Linear.Builder keeps its own bias flag private; same keys, same positions: files line up
        Parameter[] wb = Int8Options.int8Parameters(parameters, builder.bias);
        int8Weight = wb[0];
        floatBias = wb[1];
        Linear f = builder.floatBlock;
        if (f != null) {
            inputShapes = builder.options.convert(f, core, int8Weight, floatBias);
            inputFeatures = f.getParameters().get("weight").getArray().getShape().get(1);
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
        return core.activationParams();
    }

    /** {@inheritDoc} */
    @Override
    public QuantParams getWeightParams() {
        return core.weightParams();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isDynamic() {
        return core.isDynamic();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isFusedRelu() {
        return core.isFusedRelu();
    }

    /** {@inheritDoc} */
    @Override
    public FusedActivation getFusedActivation() {
        return core.fusedActivation();
    }

    /** The shared int8 part, for a chain that runs this block as one of its links. */
    Int8Core core() {
        return core;
    }

    /** The INT8 weight parameter. */
    Parameter weightParameter() {
        return int8Weight;
    }

    /** The bias parameter, or null. */
    Parameter biasParameter() {
        return floatBias;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return core.forward(
                parameterStore,
                inputs,
                int8Weight,
                floatBias,
                (xq, wf, bf) -> Linear.linear(xq, wf, bf).singletonOrThrow());
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {inputs[0].slice(0, inputs[0].dimension() - 1).add(units)};
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link Linear} describes it (the input's leading dimensions, without the features),
     * from the input shapes carried over from the float block or loaded with the metadata: Linear
     * keeps its own copy in a private field this block cannot set.
     */
    @Override
    public PairList<String, Shape> describeInput() {
        Shape in =
                inputShapes == null || inputShapes.length == 0
                        ? null
                        : inputShapes[0].slice(0, inputShapes[0].dimension() - 1);
        return new PairList<>(
                Collections.singletonList("linearInput"), Collections.singletonList(in));
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Shape[] inputShapes) {
        throw core.notInitialised("float Linear");
    }

    /** {@inheritDoc} */
    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        os.writeUTF(TYPE);
        os.writeLong(units);
        os.writeLong(inputFeatures);
        os.writeBoolean(floatBias != null);
        core.saveMetadata(os);
        saveInputShapes(os);
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        core.readHeader(loadVersion, VERSION, is, "float Linear");
        long u = is.readLong();
        long in = is.readLong();
        boolean hasBias = is.readBoolean();
        if (u != units || hasBias != (floatBias != null)) {
            throw new MalformedModelException(
                    TYPE
                            + " with "
                            + units
                            + " units"
                            + (floatBias != null ? " and" : " without")
                            + " bias cannot load parameters of "
                            + u
                            + " units"
                            + (hasBias ? " with" : " without")
                            + " bias.");
        }
        core.loadMetadata(is);
        inputFeatures = in;
        readInputShapes(is);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return TYPE + "(" + inputFeatures + " -> " + units + ", " + core.describe() + ")";
    }

    /** Builds a {@link QuantizedLinear} from a float {@link Linear}, or empty for loading. */
    public static final class Builder extends Linear.Builder {

        private Linear floatBlock;
        private boolean bias = true;
        private final Int8Options options = new Int8Options();

        Builder() {
            super();
        }

        /**
         * Sets the initialised float block to convert; its weight is quantized per output unit.
         *
         * @param linear the float block
         * @return this builder
         */
        public Builder setFloatBlock(Linear linear) {
            this.floatBlock = linear;
            return this;
        }

        /**
         * Sets the number of output units of an empty block (for loading parameters).
         *
         * @param units the output units
         * @return this builder
         */
        @Override
        public Builder setUnits(long units) {
            super.setUnits(units);
            return this;
        }

        /**
         * Sets whether an empty block has a bias (default true; ignored with a float block).
         *
         * @param bias whether there is a bias
         * @return this builder
         */
        @Override
        public Builder optBias(boolean bias) {
            super.optBias(bias);
            this.bias = bias;
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

        long units() {
            return units;
        }

        /**
         * Builds the block.
         *
         * @return the block
         * @throws IllegalArgumentException if the float block is not initialised, the parameters do
         *     not fit, or an empty block has no units
         */
        @Override
        public QuantizedLinear build() {
            if (floatBlock != null) {
                if (floatBlock instanceof QuantizedLinear) {
                    throw new IllegalArgumentException("the Linear is already quantized.");
                }
                if (!floatBlock.isInitialized()) {
                    throw new IllegalArgumentException(
                            "the float Linear must be initialised before it is quantized.");
                }
                Parameter b = floatBlock.getDirectParameters().get("bias");
                optBias(b != null);
                setUnits(floatBlock.getParameters().get("weight").getArray().getShape().get(0));
                options.checkMode(TYPE);
            } else if (units <= 0) {
                throw new IllegalArgumentException(
                        "QuantizedLinear needs setFloatBlock, or setUnits for an empty block.");
            }
            return new QuantizedLinear(this);
        }
    }
}
