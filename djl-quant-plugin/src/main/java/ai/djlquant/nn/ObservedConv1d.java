package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;

/**
 * A {@link Convolution} that runs a float {@link Conv1d} and reports its inputs and outputs to a
 * {@link ForwardTap} (see {@link ObservedBlock}). It is not a {@code Conv1d}: DJL's Conv1d cannot be
 * subclassed outside DJL (a package-private base class gives it Conv1d's NCW layout).
 */
@Internal
public final class ObservedConv1d extends NcwConvolution implements ObservedBlock {

    private final ObserverCore observation;

    /**
     * Wraps an initialised float Conv1d.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedConv1d(Conv1d floatBlock, ForwardTap tap) {
        super(ConvBuilders.copy(floatBlock, Conv1d.builder()));
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
