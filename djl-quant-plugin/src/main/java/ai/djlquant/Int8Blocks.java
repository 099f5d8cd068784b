package ai.djlquant;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.QuantizedConv1d;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.quant.QuantParams;

/** Builds the int8 block of a float layer, and reads what it holds, whatever the layer type. */
final class Int8Blocks {

    private Int8Blocks() {}

    /** Whether a block is one of ours (an int8 block). */
    static boolean isInt8(Block b) {
        return b instanceof QuantizedBlock;
    }

    /** Whether a layer has an int8 block: an exact Linear, Conv1d or Conv2d. */
    static boolean isQuantizable(Block b) {
        Class<?> c = b.getClass();
        return c == Linear.class || c == Conv2d.class || c == Conv1d.class;
    }

    /**
     * Builds the int8 block of an initialised float layer.
     *
     * @param floatBlock the float layer
     * @param activation static activation parameters, or null for dynamic
     * @param fusedRelu whether ReLU is applied to the output
     * @return the int8 block
     */
    static Block build(Block floatBlock, QuantParams activation, boolean fusedRelu) {
        if (floatBlock instanceof Linear) {
            QuantizedLinear.Builder b =
                    QuantizedLinear.builder().setFloatBlock((Linear) floatBlock);
            (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                    .optFusedRelu(fusedRelu);
            return b.build();
        }
        if (floatBlock instanceof Conv2d) {
            QuantizedConv2d.Builder b =
                    QuantizedConv2d.builder().setFloatBlock((Conv2d) floatBlock);
            (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                    .optFusedRelu(fusedRelu);
            return b.build();
        }
        QuantizedConv1d.Builder b = QuantizedConv1d.builder().setFloatBlock((Conv1d) floatBlock);
        (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                .optFusedRelu(fusedRelu);
        return b.build();
    }

    /** The per-channel weight parameters of an int8 block. */
    static QuantParams weightParams(Block int8) {
        return ((QuantizedBlock) int8).getWeightParams();
    }

    /** Frees the arrays of a block that will not be used. */
    static void release(Block b) {
        if (b == null) {
            return;
        }
        for (Parameter p : b.getParameters().values()) {
            p.close();
        }
    }
}
