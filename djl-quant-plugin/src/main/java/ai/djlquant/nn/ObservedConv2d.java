package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;

/**
 * A {@link Conv2d} that runs a float Conv2d and reports its inputs and outputs to a {@link
 * ForwardTap} (see {@link ObservedBlock}).
 */
@Internal
public final class ObservedConv2d extends Conv2d implements ObservedBlock {

    private final ObserverCore observation;

    /**
     * Wraps an initialised float Conv2d.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedConv2d(Conv2d floatBlock, ForwardTap tap) {
        super(ConvBuilders.copy(floatBlock, Conv2d.builder()));
        observation = new ObserverCore(floatBlock, tap, parameters);
        weight = parameters.get("weight");
        bias = parameters.get("bias");
        inputShapes = floatBlock.getInputShapes();
    }

    /** {@inheritDoc} */
    @Override
    public Block getFloatBlock() {
        return observation.floatBlock();
    }

    /** {@inheritDoc} */
    @Override
    public ForwardTap getTap() {
        return observation.tap();
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return observation.forward(parameterStore, inputs, training, params);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return observation.describe();
    }
}
