package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;

/**
 * A float layer wrapped so that calibration sees its inputs and outputs: the wrapper runs the float
 * block and calls its {@link ForwardTap}. It holds the float block's own {@code Parameter} objects
 * under the same names, so parameter names, initialisation state and the arrays predictors use are
 * unchanged while it is in the tree.
 *
 * <p>Each wrapper subclasses the type it wraps where DJL allows it ({@link ObservedLinear} is a
 * {@link Linear}, {@link ObservedConv2d} a {@link Conv2d}), so it fits typed fields of custom
 * blocks; {@link ObservedConv1d} is a {@code Convolution} only, as DJL's {@link Conv1d} cannot be
 * subclassed outside DJL.
 */
@Internal
public interface ObservedBlock extends Block {

    /**
     * Returns the wrapped float block.
     *
     * @return the float block
     */
    Block getFloatBlock();

    /**
     * Returns the tap the wrapper calls.
     *
     * @return the tap
     */
    ForwardTap getTap();

    /**
     * Runs {@code floatBlock} between the tap's two calls (the body of every wrapper's forward).
     *
     * @param floatBlock the float block
     * @param tap the tap
     * @param store the parameter store
     * @param inputs the inputs
     * @param training whether this is a training pass
     * @param params optional parameters
     * @return the float block's outputs
     */
    static NDList forwardThrough(
            Block floatBlock,
            ForwardTap tap,
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        tap.beforeForward(inputs);
        NDList outputs = floatBlock.forward(store, inputs, training, params);
        tap.afterForward(inputs, outputs);
        return outputs;
    }
}
