package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;

import java.util.Arrays;
import java.util.Map;

/**
 * The quantization options every int8 block's builder collects (static or dynamic activations,
 * fused activation, per-tensor weights), and the conversion that applies them to a float block. The three
 * builders extend different DJL builders, so they hold one of these instead of sharing a base
 * class.
 */
final class Int8Options {

    private QuantParams activation;
    private boolean dynamic;
    private FusedActivation fused = FusedActivation.NONE;
    private boolean perTensorWeights;

    /** Static mode with fixed activation parameters. */
    void setActivationParams(QuantParams params) {
        activation = params;
        dynamic = false;
    }

    /** Dynamic mode: activation parameters from each input. */
    void setDynamic() {
        dynamic = true;
        activation = null;
    }

    void setFusedRelu(boolean relu) {
        fused = relu ? FusedActivation.RELU : FusedActivation.NONE;
    }

    void setFusedActivation(FusedActivation activation, String blockType) {
        if (activation == null) {
            throw new IllegalArgumentException(
                    blockType + " needs a fused activation (FusedActivation.NONE for none), got null.");
        }
        fused = activation;
    }

    void setPerTensorWeights(boolean perTensor) {
        perTensorWeights = perTensor;
    }

    /** Checks, before a float block is converted, that a mode was chosen. */
    void checkMode(String blockType) {
        if (!dynamic && activation == null) {
            throw new IllegalArgumentException(
                    blockType + " needs activation QuantParams (static mode) or optDynamic().");
        }
    }

    /**
     * Quantizes the float block's {@code weight} into {@code weight}, copies its {@code bias} into
     * {@code bias} (where the block has one) and configures {@code core} with these options.
     *
     * @return the float block's input shapes
     */
    Shape[] convert(Block floatBlock, Int8Core core, Parameter weight, Parameter bias) {
        NDArray w = floatBlock.getParameters().get("weight").getArray();
        QuantParams[] wp = new QuantParams[1];
        NDArray wq = quantizeWeight(w, perTensorWeights, wp);
        core.configure(activation, dynamic, fused, wp[0].getScales());
        weight.setArray(wq);
        if (bias != null) {
            bias.setArray(floatBlock.getParameters().get("bias").getArray().duplicate());
        }
        return floatBlock.getInputShapes();
    }

    /**
     * Quantizes a float weight per output channel, or per tensor: one scale for all channels (kept
     * as equal per-channel scales, which is what the kernels and the metadata hold). Returns the
     * INT8 array and stores its parameters.
     */
    static NDArray quantizeWeight(NDArray weight, boolean perTensor, QuantParams[] paramsOut) {
        QuantParams p = AffineQuantizer.forWeight(Int8Core.WEIGHT_SCHEME, weight);
        if (perTensor) {
            float[] s = p.getScales();
            float max = 0;
            for (float v : s) {
                max = Math.max(max, v);
            }
            Arrays.fill(s, max);
            p = QuantParams.perChannel(Int8Core.WEIGHT_SCHEME, s, new int[s.length]);
        }
        paramsOut[0] = p;
        return AffineQuantizer.quantize(weight, p);
    }

    /**
     * Creates the int8 block's {@code weight} and {@code bias} parameters in {@code parameters}
     * (the float block's names, in its order, so files line up), both frozen: int8 arrays cannot
     * carry gradients, and the block is not trained.
     *
     * @return the weight and the bias, the bias null without one
     */
    static Parameter[] int8Parameters(Map<String, Parameter> parameters, boolean bias) {
        Parameter w = int8Parameter("weight", Parameter.Type.WEIGHT);
        parameters.put("weight", w);
        Parameter b = null;
        if (bias) {
            b = int8Parameter("bias", Parameter.Type.BIAS);
            parameters.put("bias", b);
        }
        return new Parameter[] {w, b};
    }

    private static Parameter int8Parameter(String name, Parameter.Type type) {
        return Parameter.builder().setName(name).setType(type).optRequiresGrad(false).build();
    }
}
