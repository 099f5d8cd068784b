package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;

/**
 * The pure-Java int8 backend: plain scalar loops with exact int32 accumulation, any activation
 * width. It is the yardstick the native backend is tested against, and the backend in force when
 * oneDNN cannot load (the int8 blocks then run their float fallback rather than these loops).
 */
public final class ReferenceBackend implements Int8Backend {

    /** Creates the backend. */
    public ReferenceBackend() {}

    /** {@inheritDoc} */
    @Override
    public String getName() {
        return "reference";
    }

    /** {@inheritDoc} */
    @Override
    public boolean isNative() {
        return false;
    }

    /** {@inheritDoc} */
    @Override
    public int getActivationBits() {
        return 8; // int32 arithmetic in Java never saturates
    }

    /** {@inheritDoc} */
    @Override
    public Int8Kernel newLinear(Int8Weights weights, FusedActivation activation) {
        if (weights.getShape().length != 2) {
            throw new IllegalArgumentException(
                    "a Linear weight must be [N, K], got rank " + weights.getShape().length + ".");
        }
        return new ReferenceKernel(null, weights, activation);
    }

    /** {@inheritDoc} */
    @Override
    public Int8Kernel newConvolution(
            ConvGeometry geometry, Int8Weights weights, FusedActivation activation) {
        KernelChecks.checkConvWeights(geometry, weights);
        return new ReferenceKernel(geometry, weights, activation);
    }
}
