package ai.djlquant.nn;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.ActivationQuantization;
import ai.djlquant.kernel.Int8Backend;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.Int8Kernel;
import ai.djlquant.kernel.Int8Weights;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.Granularity;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the int8 blocks share: the forward, the activation quantization, the weight scales, the
 * kernel built from the block's int8 weight, the float fallback, and their part of the saved
 * metadata (with the header every block's starts with).
 *
 * <p>The kernel is built on the first forward from the weight array the ParameterStore returns and
 * rebuilt whenever that array is replaced (as {@code loadParameters} does).
 */
final class Int8Core {

    /** The weight scheme of every int8 block (DESIGN.md: symmetric, per channel, [-127, 127]). */
    static final QuantScheme WEIGHT_SCHEME = QuantScheme.int8WeightPerChannel(0);

    private final String blockType;
    private final KernelFactory kernelFactory;
    private final boolean convolution;
    private boolean dynamic;
    private int bits;
    private float scale = 1f;
    private int zeroPoint;
    private FusedActivation fused = FusedActivation.NONE;
    private float[] weightScales;

    private volatile ActivationQuantization activation;
    private final Object buildLock = new Object();
    private volatile NDArray builtFrom;
    private volatile Int8Kernel kernel;
    private volatile NDArray fallbackWeight;

    Int8Core(String blockType, KernelFactory kernelFactory, boolean convolution) {
        this.blockType = blockType;
        this.kernelFactory = kernelFactory;
        this.convolution = convolution;
    }

    // ---------------------------------------------------------------------------------------
    // configuration

    void configure(
            QuantParams activationParams, boolean dynamicMode, FusedActivation act, float[] ws) {
        dynamic = dynamicMode;
        fused = act;
        weightScales = ws.clone();
        if (dynamicMode) {
            bits = Int8Backends.get().getActivationBits();
            scale = 1f;
            zeroPoint = 0;
        } else {
            checkActivationParams(activationParams);
            bits = activationParams.getScheme().getBits();
            scale = activationParams.scale();
            zeroPoint = activationParams.zeroPoint();
        }
        activation = makeActivation();
    }

    private ActivationQuantization makeActivation() {
        return dynamic
                ? ActivationQuantization.dynamic(bits)
                : ActivationQuantization.fixed(scale, zeroPoint, bits);
    }

    private void checkActivationParams(QuantParams p) {
        if (p == null) {
            throw new IllegalArgumentException(
                    blockType + " needs activation QuantParams (static mode) or optDynamic().");
        }
        QuantScheme s = p.getScheme();
        if (s.isSigned()
                || s.isSymmetric()
                || s.getGranularity() != Granularity.PER_TENSOR
                || (s.getBits() != 7 && s.getBits() != 8)) {
            throw new IllegalArgumentException(
                    blockType
                            + " takes unsigned asymmetric per-tensor 7- or 8-bit activation"
                            + " parameters (QuantScheme.uint8Activation), got "
                            + s
                            + ".");
        }
    }

    boolean isDynamic() {
        return dynamic;
    }

    boolean isFusedRelu() {
        return fused == FusedActivation.RELU;
    }

    FusedActivation fusedActivation() {
        return fused;
    }

    /** Static activation parameters, or null in dynamic mode. */
    QuantParams activationParams() {
        if (dynamic) {
            return null;
        }
        return QuantParams.perTensor(QuantScheme.uint8Activation(bits), scale, zeroPoint);
    }

    QuantParams weightParams() {
        return QuantParams.perChannel(WEIGHT_SCHEME, weightScales, new int[weightScales.length]);
    }

    // ---------------------------------------------------------------------------------------
    // forward

    /** An int8 block's forward: its one input, its weight and bias (or none) from the store. */
    NDList forward(
            ParameterStore store, NDList inputs, Parameter weight, Parameter bias, FloatOp op) {
        NDArray x = inputs.singletonOrThrow();
        NDArray w = store.getValue(weight, x.getDevice(), false);
        NDArray b = bias == null ? null : store.getValue(bias, x.getDevice(), false);
        return new NDList(forward(x, w, b, op));
    }

    NDArray forward(NDArray x, NDArray weight, NDArray bias, FloatOp floatOp) {
        ActivationQuantization act = activation;
        if (act == null || weight == null) {
            throw new IllegalStateException(
                    blockType
                            + " has no weights yet: build it from a float block or load its"
                            + " parameters first.");
        }
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    blockType
                            + " takes FLOAT32 input, got "
                            + x.getDataType()
                            + " of shape "
                            + x.getShape()
                            + ".");
        }
        Int8Kernel k = kernelFor(weight, bias);
        long[] shape = x.getShape().getShape();
        long[] outShape;
        try {
            outShape = k.outputShape(shape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(blockType + ": " + e.getMessage(), e);
        }
        if (!runsNatively(x.getDevice())) {
            return fallback(x, weight, bias, floatOp);
        }
        int threads = engineThreads(x.getManager());
        if (!convolution) {
            // borrow the input's memory; write into a tensor PyTorch owns
            ByteBuffer in = x.toByteBuffer(true);
            NDArray out = x.getManager().create(new Shape(outShape), DataType.FLOAT32);
            k.forward(in, shape, act, out.toByteBuffer(true), threads);
            return out;
        }
        // oneDNN's int8 convolutions run channels-last: write NHWC into a tensor PyTorch owns
        // and return it permuted to the NCHW shape (a view, as PyTorch's channels_last); read
        // such a view (its strides say so, see ChannelsLastViews) as the NHWC memory it is
        int rank = outShape.length;
        int[] toNchw = ChannelsLastViews.toNchw(rank);
        int[] toNhwc = ChannelsLastViews.toNhwc(rank);
        long[] nhwc = ChannelsLastViews.nhwcShape(outShape);
        boolean inNhwc = ChannelsLastViews.isChannelsLast(x);
        NDArray nhwcIn = inNhwc ? x.transpose(toNhwc) : null; // contiguous: no copy
        ByteBuffer in = (inNhwc ? nhwcIn : x).toByteBuffer(true);
        NDArray outBase = x.getManager().create(new Shape(nhwc), DataType.FLOAT32);
        k.forward(in, shape, inNhwc, act, outBase.toByteBuffer(true), true, threads);
        NDArray view = outBase.transpose(toNchw);
        // the view holds the storage; the NHWC handle is not needed any more
        outBase.close();
        if (nhwcIn != null) {
            nhwcIn.close();
        }
        return view;
    }

    /** The activation quantization as configured (static or dynamic, not narrowed). */
    ActivationQuantization activation() {
        return activation;
    }

    /**
     * The static grid the kernel runs this block's input on: the activation parameters narrowed to
     * the backend's activation bits, as the kernel narrows them for float input; so a producer that
     * writes uint8 on this grid hands the kernel the bytes it would have quantized itself.
     */
    ActivationQuantization kernelGrid() {
        return activation.narrowTo(Int8Backends.get().getActivationBits());
    }

    /**
     * The native kernel of a chained call on {@code device}, or null where this block would run
     * its float fallback (no native backend, not the CPU) and so cannot be a link of a chain.
     */
    Int8Kernel chainKernel(
            ParameterStore store, Device device, Parameter weight, Parameter bias) {
        if (activation == null || !runsNatively(device)) {
            return null;
        }
        NDArray w = store.getValue(weight, device, false);
        NDArray b = bias == null ? null : store.getValue(bias, device, false);
        return w == null ? null : kernelFor(w, b);
    }

    /** Whether a call on {@code device} runs the native kernel (else the float fallback). */
    private static boolean runsNatively(Device device) {
        return Int8Backends.get().isNative() && Device.Type.CPU.equals(device.getDeviceType());
    }

    /** The engine's intra-op thread count, so oneDNN runs as many threads as PyTorch does. */
    static int engineThreads(NDManager manager) {
        if ("PyTorch".equals(manager.getEngine().getEngineName())) {
            return JniUtils.getNumThreads();
        }
        return 0;
    }

    private Int8Kernel kernelFor(NDArray weight, NDArray bias) {
        Int8Kernel k = kernel;
        if (k != null && builtFrom == weight) {
            return k;
        }
        synchronized (buildLock) {
            if (kernel != null && builtFrom == weight) {
                return kernel;
            }
            if (weight.getDataType() != DataType.INT8) {
                throw new IllegalStateException(
                        blockType + " weight must be INT8, got " + weight.getDataType() + ".");
            }
            long[] ws = weight.getShape().getShape();
            if (weightScales == null || ws[0] != weightScales.length) {
                throw new IllegalStateException(
                        blockType
                                + " has "
                                + (weightScales == null ? 0 : weightScales.length)
                                + " weight scales for a weight of shape "
                                + weight.getShape()
                                + ".");
            }
            float[] b = bias == null ? null : bias.toFloatArray();
            Int8Weights w = new Int8Weights(weight.toByteArray(), ws, weightScales, b);
            Int8Kernel built = kernelFactory.create(Int8Backends.get(), w, fused);
            Int8Kernel old = kernel;
            NDArray oldFallback = fallbackWeight;
            kernel = built;
            fallbackWeight = null;
            builtFrom = weight;
            if (old != null) {
                old.close();
            }
            if (oldFallback != null) {
                oldFallback.close();
            }
            return built;
        }
    }

    /** Prepares the kernel of the wrapped layer type. */
    interface KernelFactory {
        Int8Kernel create(Int8Backend backend, Int8Weights weights, FusedActivation activation);
    }

    /** A float op of the wrapped layer type (linear, conv1d, conv2d). */
    interface FloatOp {
        NDArray apply(NDArray x, NDArray weight, NDArray bias);
    }

    /**
     * Without native kernels: the same activation grid (quantize, dequantize) and the dequantized
     * weights, on the engine's float ops.
     */
    private NDArray fallback(NDArray x, NDArray weight, NDArray bias, FloatOp op) {
        NDArray wf = fallbackWeight;
        if (wf == null) {
            synchronized (buildLock) {
                if (fallbackWeight == null) {
                    long[] shape = new long[weight.getShape().dimension()];
                    Arrays.fill(shape, 1);
                    shape[0] = weightScales.length;
                    NDManager m = weight.getManager();
                    NDArray s = m.create(weightScales, new Shape(shape));
                    fallbackWeight = weight.toType(DataType.FLOAT32, false).mul(s);
                    s.close();
                }
                wf = fallbackWeight;
            }
        }
        ActivationQuantization act = activation;
        float s = act.getScale();
        int z = act.getZeroPoint();
        if (act.isDynamic()) {
            float lo = x.min().getFloat();
            float hi = x.max().getFloat();
            s = ActivationQuantization.dynamicScale(lo, hi, act.getQmax());
            z = ActivationQuantization.dynamicZeroPoint(lo, s, act.getQmax());
        }
        NDManager m = x.getManager();
        NDArray out;
        try (NDManager scope = m.newSubManager()) {
            NDArray xs = x.duplicate();
            xs.attach(scope);
            NDArray q = ActivationQuantization.quantize(xs, s, z, act.getQmax());
            NDArray xq = q.sub(z).mul(s);
            NDArray y = op.apply(xq, wf, bias);
            y = fused.apply(y);
            out = y;
            out.attach(m);
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------
    // metadata

    /** Checks the version DJL read, then reads the block type every int8 block saves first. */
    void readHeader(byte loadVersion, byte version, DataInputStream is, String floatKind)
            throws IOException, MalformedModelException {
        if (loadVersion != version) {
            throw new MalformedModelException(
                    blockType
                            + " cannot read parameters of version "
                            + loadVersion
                            + " (expected "
                            + version
                            + "): were they saved from a "
                            + floatKind
                            + "?");
        }
        String saved = is.readUTF();
        if (!blockType.equals(saved)) {
            throw new MalformedModelException(
                    blockType + " cannot load the parameters of a " + saved + ".");
        }
    }

    /** What {@code prepare} throws: an int8 block is only built from a float block or loaded. */
    IllegalStateException notInitialised(String floatKind) {
        return new IllegalStateException(
                blockType
                        + " is not trained or initialised: build it from a "
                        + floatKind
                        + " or load its parameters.");
    }

    void saveMetadata(DataOutputStream os) throws IOException {
        os.writeBoolean(dynamic);
        // 0 none, 1 ReLU (the boolean earlier versions wrote), 2 ReLU6: a ReLU6 block read by an
        // older version reads as ReLU, which the manifest's fusedRelu (false for it) then refuses
        os.writeByte(fused.ordinal());
        os.writeByte(bits);
        os.writeFloat(scale);
        os.writeInt(zeroPoint);
        os.writeInt(weightScales.length);
        for (float f : weightScales) {
            os.writeFloat(f);
        }
    }

    void loadMetadata(DataInputStream is) throws IOException, MalformedModelException {
        boolean d = is.readBoolean();
        int r = is.readByte();
        if (r < 0 || r >= FusedActivation.values().length) {
            throw new MalformedModelException(
                    blockType + " parameters hold an unknown fused activation (code " + r + ").");
        }
        int b = is.readByte();
        float s = is.readFloat();
        int z = is.readInt();
        int n = is.readInt();
        if (n <= 0 || n > (1 << 24)) {
            throw new MalformedModelException(
                    blockType + " parameters hold " + n + " weight scales.");
        }
        float[] ws = new float[n];
        for (int i = 0; i < n; i++) {
            ws[i] = is.readFloat();
        }
        ActivationQuantization act;
        try {
            act = d ? ActivationQuantization.dynamic(b) : ActivationQuantization.fixed(s, z, b);
            QuantParams.perChannel(WEIGHT_SCHEME, ws, new int[n]);
        } catch (IllegalArgumentException e) {
            throw new MalformedModelException(
                    blockType + " parameters hold invalid quantization: " + e.getMessage(), e);
        }
        dynamic = d;
        fused = FusedActivation.values()[r];
        bits = b;
        scale = s;
        zeroPoint = z;
        weightScales = ws;
        activation = act;
    }

    String describe() {
        return (dynamic ? "dynamic" : "static " + activation) + (fused == FusedActivation.NONE ? "" : ", fused " + (fused == FusedActivation.RELU ? "ReLU" : "ReLU6"));
    }
}
