package ai.djlquant.nn;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.kernel.WeightOnlyFormat;
import ai.djlquant.kernel.WeightOnlyKernel;
import ai.djlquant.kernel.WeightOnlyKernels;
import ai.djlquant.kernel.WeightOnlyWeights;
import ai.djlquant.quant.QuantParams;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Collections;

/**
 * A weight-only {@link Linear}: {@code y = x W^T + b} with float32 {@code x} and {@code y}, and W
 * stored in 8 bits per output channel or 4 bits in groups (llama.cpp's Q4_0 / Q4_1; the formulas
 * are {@code kernel.WeightOnlyFormat}'s). The weight is widened to float32 inside the kernel, and
 * the products are accumulated in float32, so the output differs from {@code x W'^T + b} (W' the
 * dequantized weight, in float64) by float32 rounding only (tested within {@code 1e-5 * sum |x *
 * w'|}); the quantization error itself is the weight's (SQNR in the report).
 *
 * <p>Why: at small batch a Linear reads its whole weight once per call, and the memory traffic, not
 * the arithmetic, is the time; a quarter (8-bit) or an eighth (4-bit) of the bytes is the speed-up.
 * It extends {@link Linear}, so it fits wherever a Linear is typed.
 *
 * <p>Parameters keep the float block's names: {@code weight} (INT8 {@code [units, inputs]} for
 * 8-bit, UINT8 {@code [units, inputs / 2]} two 4-bit values per byte for 4-bit) and {@code bias}
 * (FLOAT32). The format, scales and offsets are the block's metadata.
 *
 * <pre>{@code
 * WeightOnlyLinear w = WeightOnlyLinear.builder()
 *         .setFloatBlock(linear)     // an initialised Linear
 *         .optFormat(8, 0, true)     // or (4, 64, true), (4, 32, false), ...
 *         .build();
 * }</pre>
 *
 * <p>To load saved parameters, build an empty block with the same structure ({@code
 * setUnits}/{@code optBias} and the format) and call {@code loadParameters}.
 */
public class WeightOnlyLinear extends Linear implements WeightOnlyBlock {

    private static final byte VERSION = 1;
    private static final String TYPE = "WeightOnlyLinear";

    private final Parameter weight;
    private final Parameter floatBias;
    private WeightOnlyFormat format;
    private long units;
    private long inputFeatures;
    private float[] scales;
    private float[] offsets;

    private final Object buildLock = new Object();
    private volatile NDArray builtFrom;
    private volatile WeightOnlyKernel kernel;

    WeightOnlyLinear(Builder builder) {
        super(builder);
        version = VERSION;
        units = builder.units();
        format = builder.format;
        Parameter[] wb = Int8Options.int8Parameters(parameters, builder.bias);
        weight = wb[0];
        floatBias = wb[1];
        Linear f = builder.floatBlock;
        if (f != null) {
            NDArray w = f.getParameters().get("weight").getArray();
            int n = (int) w.getShape().get(0);
            int k = (int) w.getShape().get(1);
            NDArray b = floatBias == null ? null : f.getParameters().get("bias").getArray();
            WeightOnlyWeights q =
                    WeightOnlyWeights.quantize(
                            format, w.toFloatArray(), n, k, b == null ? null : b.toFloatArray());
            scales = q.scales();
            offsets = q.offsets();
            inputFeatures = k;
            NDManager m = w.getManager();
            weight.setArray(
                    m.create(
                            java.nio.ByteBuffer.wrap(q.values()),
                            new Shape(n, format.rowBytes(k)),
                            format.bits() == 8 ? DataType.INT8 : DataType.UINT8));
            if (floatBias != null) {
                floatBias.setArray(b.duplicate());
            }
            inputShapes = f.getInputShapes();
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
    public int getWeightBits() {
        return format.bits();
    }

    /** {@inheritDoc} */
    @Override
    public int getGroupSize() {
        return format.groupSize();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isSymmetric() {
        return format.symmetric();
    }

    /** {@inheritDoc} */
    @Override
    public float[] getWeightScales() {
        return scales == null ? null : scales.clone();
    }

    /** {@inheritDoc} */
    @Override
    public float[] getWeightOffsets() {
        return offsets == null ? null : offsets.clone();
    }

    /** {@inheritDoc} */
    @Override
    public QuantParams getWeightParams() {
        if (format.bits() != 8 || scales == null) {
            return null;
        }
        return QuantParams.perChannel(Int8Core.WEIGHT_SCHEME, scales, new int[scales.length]);
    }

    /** {@inheritDoc} */
    @Override
    public String getFormatName() {
        return format.shortName();
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray w = parameterStore.getValue(weight, x.getDevice(), false);
        NDArray b = floatBias == null ? null : parameterStore.getValue(floatBias, x.getDevice(), false);
        if (w == null || scales == null) {
            throw new IllegalStateException(
                    TYPE
                            + " has no weights yet: build it from a float block or load its"
                            + " parameters first.");
        }
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    TYPE + " takes FLOAT32 input, got " + x.getDataType() + " of shape " + x.getShape() + ".");
        }
        Shape s = x.getShape();
        if (s.dimension() < 1 || s.get(s.dimension() - 1) != inputFeatures) {
            throw new IllegalArgumentException(
                    TYPE
                            + " takes input [..., "
                            + inputFeatures
                            + "], got "
                            + s
                            + ".");
        }
        WeightOnlyKernel k = kernelFor(w, b);
        Shape outShape = s.slice(0, s.dimension() - 1).add(units);
        int rows = (int) (s.size() / inputFeatures);
        if (!Device.Type.CPU.equals(x.getDevice().getDeviceType())) {
            throw new IllegalArgumentException(
                    TYPE + " runs on the CPU; its input is on " + x.getDevice() + ".");
        }
        FloatBuffer in = x.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        NDArray out = x.getManager().create(outShape, DataType.FLOAT32);
        FloatBuffer o = out.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        k.forward(in, rows, o, threads(x.getManager()));
        return new NDList(out);
    }

    private static int threads(NDManager manager) {
        if ("PyTorch".equals(manager.getEngine().getEngineName())) {
            return Math.max(1, JniUtils.getNumThreads());
        }
        return 1;
    }

    private WeightOnlyKernel kernelFor(NDArray w, NDArray b) {
        WeightOnlyKernel k = kernel;
        if (k != null && builtFrom == w) {
            return k;
        }
        synchronized (buildLock) {
            if (kernel != null && builtFrom == w) {
                return kernel;
            }
            DataType expected = format.bits() == 8 ? DataType.INT8 : DataType.UINT8;
            Shape ws = w.getShape();
            if (w.getDataType() != expected
                    || ws.dimension() != 2
                    || ws.get(0) != units
                    || ws.get(1) != format.rowBytes(inputFeatures)) {
                throw new IllegalStateException(
                        TYPE
                                + " ("
                                + format.shortName()
                                + ") needs a "
                                + expected
                                + " weight of shape ("
                                + units
                                + ", "
                                + format.rowBytes(inputFeatures)
                                + "), got "
                                + w.getDataType()
                                + " "
                                + ws
                                + ".");
            }
            WeightOnlyKernel built =
                    WeightOnlyKernels.create(
                            new WeightOnlyWeights(
                                    format,
                                    (int) units,
                                    (int) inputFeatures,
                                    w.toByteArray(),
                                    scales,
                                    offsets,
                                    b == null ? null : b.toFloatArray()));
            kernel = built;
            builtFrom = w;
            return built;
        }
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {inputs[0].slice(0, inputs[0].dimension() - 1).add(units)};
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link Linear} describes it (the input's leading dimensions), from the input shapes
     * carried over from the float block or loaded with the metadata.
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
        throw new IllegalStateException(
                TYPE
                        + " is not trained or initialised: build it from a float Linear or load"
                        + " its parameters.");
    }

    /** {@inheritDoc} */
    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        os.writeUTF(TYPE);
        os.writeLong(units);
        os.writeLong(inputFeatures);
        os.writeBoolean(floatBias != null);
        os.writeByte(format.bits());
        os.writeInt(format.groupSize());
        os.writeBoolean(format.symmetric());
        writeFloats(os, scales);
        writeFloats(os, offsets == null ? new float[0] : offsets);
        saveInputShapes(os);
    }

    private static void writeFloats(DataOutputStream os, float[] v) throws IOException {
        os.writeInt(v.length);
        for (float f : v) {
            os.writeFloat(f);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        if (loadVersion != VERSION) {
            throw new MalformedModelException(
                    TYPE
                            + " cannot read parameters of version "
                            + loadVersion
                            + " (expected "
                            + VERSION
                            + "): were they saved from a float Linear?");
        }
        String saved = is.readUTF();
        if (!TYPE.equals(saved)) {
            throw new MalformedModelException(TYPE + " cannot load the parameters of a " + saved + ".");
        }
        long u = is.readLong();
        long in = is.readLong();
        boolean hasBias = is.readBoolean();
        int bits = is.readByte();
        int group = is.readInt();
        boolean symmetric = is.readBoolean();
        WeightOnlyFormat f;
        try {
            f = new WeightOnlyFormat(bits, group, symmetric);
        } catch (IllegalArgumentException e) {
            throw new MalformedModelException(TYPE + " parameters hold an unknown format: " + e.getMessage(), e);
        }
        if (u != units || hasBias != (floatBias != null) || !f.equals(format)) {
            throw new MalformedModelException(
                    TYPE
                            + " "
                            + format.shortName()
                            + " with "
                            + units
                            + " units"
                            + (floatBias != null ? " and" : " without")
                            + " bias cannot load parameters of a "
                            + f.shortName()
                            + " layer with "
                            + u
                            + " units"
                            + (hasBias ? " and" : " without")
                            + " bias.");
        }
        if (in <= 0 || (bits == 4 && in % group != 0)) {
            throw new MalformedModelException(
                    TYPE + " parameters hold " + in + " input features for format " + f.shortName() + ".");
        }
        long groups = u * f.groups(in);
        float[] s = readFloats(is, groups, "scales");
        float[] o = readFloats(is, symmetric ? 0 : groups, "offsets");
        inputFeatures = in;
        scales = s;
        offsets = symmetric ? null : o;
        readInputShapes(is);
    }

    private static float[] readFloats(DataInputStream is, long expected, String what)
            throws IOException, MalformedModelException {
        int n = is.readInt();
        if (n != expected) {
            throw new MalformedModelException(
                    TYPE + " parameters hold " + n + " " + what + ", expected " + expected + ".");
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = is.readFloat();
        }
        return v;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return TYPE + "(" + inputFeatures + " -> " + units + ", " + format.shortName() + ")";
    }

    /** Builds a {@link WeightOnlyLinear} from a float {@link Linear}, or empty for loading. */
    public static final class Builder extends Linear.Builder {

        private Linear floatBlock;
        private boolean bias = true;
        private WeightOnlyFormat format = WeightOnlyFormat.INT8;

        Builder() {
            super();
        }

        /**
         * Sets the initialised float block to convert.
         *
         * @param linear the float block
         * @return this builder
         */
        public Builder setFloatBlock(Linear linear) {
            this.floatBlock = linear;
            return this;
        }

        /**
         * Sets the weight format (default 8-bit per channel).
         *
         * @param bits 8 or 4
         * @param groupSize 0 for 8-bit, else 32, 64 or 128
         * @param symmetric whether 4-bit groups have no offset (Q4_0) or a minimum (Q4_1)
         * @return this builder
         * @throws IllegalArgumentException for any other combination
         */
        public Builder optFormat(int bits, int groupSize, boolean symmetric) {
            this.format = new WeightOnlyFormat(bits, groupSize, symmetric);
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

        long units() {
            return units;
        }

        /**
         * Builds the block.
         *
         * @return the block
         * @throws IllegalArgumentException if the float block is not initialised or its input
         *     features do not fit the format's groups, or an empty block has no units
         */
        @Override
        public WeightOnlyLinear build() {
            if (floatBlock != null) {
                if (floatBlock instanceof WeightOnlyLinear || floatBlock instanceof QuantizedLinear) {
                    throw new IllegalArgumentException("the Linear is already quantized.");
                }
                if (!floatBlock.isInitialized()) {
                    throw new IllegalArgumentException(
                            "the float Linear must be initialised before it is quantized.");
                }
                Shape ws = floatBlock.getParameters().get("weight").getArray().getShape();
                if (format.bits() == 4 && ws.get(1) % format.groupSize() != 0) {
                    throw new IllegalArgumentException(
                            "a "
                                    + format.shortName()
                                    + " Linear needs input features that are a multiple of "
                                    + format.groupSize()
                                    + ", the float Linear has "
                                    + ws.get(1)
                                    + ".");
                }
                optBias(floatBlock.getDirectParameters().get("bias") != null);
                setUnits(ws.get(0));
            } else if (units <= 0) {
                throw new IllegalArgumentException(
                        "WeightOnlyLinear needs setFloatBlock, or setUnits for an empty block.");
            }
            return new WeightOnlyLinear(this);
        }
    }
}
