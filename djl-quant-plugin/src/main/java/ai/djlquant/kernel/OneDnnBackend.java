package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;

/**
 * The native int8 backend: oneDNN through the JavaCPP presets ({@code org.bytedeco:dnnl}).
 *
 * <p>Linear layers run as oneDNN 1x1 convolutions over {@code [1, K, 1, M]} (the convolution's
 * weights are packed once; the inner product packs them again on every call, which dominates at
 * small M, and it measured slower at M = 64 and 256 too), as inner products only above {@link
 * #SMALL_M_PROPERTY} rows if that is set; convolutions run on oneDNN's convolution primitive in
 * NHWC. See {@link OneDnnKernel} for the data path.
 */
public final class OneDnnBackend implements Int8Backend {

    /**
     * System property: largest Linear row count run as a 1x1 convolution, above it the inner
     * product (default: every row count; the convolution measured faster at every M on AVX2).
     */
    public static final String SMALL_M_PROPERTY = "ai.djlquant.kernel.linearConvMaxRows";

    /** System property: force the activation grid to 7 bits even where VNNI would allow 8. */
    public static final String ACTIVATION_BITS_PROPERTY = "ai.djlquant.kernel.activationBits";

    private final OneDnnRuntime runtime;
    private final int activationBits;
    private final long smallM;

    /**
     * Loads oneDNN and creates the backend.
     *
     * @throws UnsatisfiedLinkError or another error if the native library cannot load
     */
    public OneDnnBackend() {
        runtime = new OneDnnRuntime();
        int bits = runtime.hasVnni() ? 8 : 7;
        Integer forced = Integer.getInteger(ACTIVATION_BITS_PROPERTY);
        if (forced != null && forced == 7) {
            bits = 7;
        }
        activationBits = bits;
        smallM = Long.getLong(SMALL_M_PROPERTY, Long.MAX_VALUE);
    }

    /** {@inheritDoc} */
    @Override
    public String getName() {
        return "onednn";
    }

    /** {@inheritDoc} */
    @Override
    public boolean isNative() {
        return true;
    }

    /** {@inheritDoc} */
    @Override
    public int getActivationBits() {
        return activationBits;
    }

    /**
     * Returns oneDNN's name of the instruction set it runs, e.g. {@code avx2}.
     *
     * @return the ISA name
     */
    public String getIsa() {
        return runtime.isaName();
    }

    /**
     * Returns whether this backend sets oneDNN's OpenMP thread count per call (see {@link
     * Int8Kernel#forward}); false means oneDNN uses {@code OMP_NUM_THREADS} or all CPUs.
     *
     * @return whether thread counts are honoured
     */
    public boolean canSetThreads() {
        return runtime.canSetThreads();
    }

    /**
     * Returns the path of the OpenMP runtime oneDNN runs on: libtorch's when DJL's PyTorch engine
     * was loaded first (one shared thread pool), else the presets' own.
     *
     * @return the libgomp path, or null if unknown
     */
    public String getOpenMpLibrary() {
        return runtime.openMpLibrary();
    }

    /** The process-wide oneDNN state (tests build kernels with other activation bits). */
    OneDnnRuntime runtime() {
        return runtime;
    }

    /** Largest Linear row count run as a 1x1 convolution. */
    long smallM() {
        return smallM;
    }

    /** {@inheritDoc} */
    @Override
    public Int8Kernel newLinear(Int8Weights weights, FusedActivation activation) {
        if (weights.getShape().length != 2) {
            throw new IllegalArgumentException(
                    "a Linear weight must be [N, K], got rank " + weights.getShape().length + ".");
        }
        return new OneDnnKernel(runtime, null, weights, activation, activationBits, smallM);
    }

    /** {@inheritDoc} */
    @Override
    public Int8Kernel newConvolution(
            ConvGeometry geometry, Int8Weights weights, FusedActivation activation) {
        KernelChecks.checkConvWeights(geometry, weights);
        return new OneDnnKernel(runtime, geometry, weights, activation, activationBits, smallM);
    }
}
