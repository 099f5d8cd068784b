package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;

/**
 * A {@link Linear} that runs a float Linear and reports its inputs and outputs to a {@link
 * ForwardTap} (see {@link ObservedBlock}). Calibration puts it in the tree; conversion takes it out.
 */
@Internal
public final class ObservedLinear extends Linear implements ObservedBlock {

    private final ObserverCore observation;

    /**
     * Wraps an initialised float Linear.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedLinear(Linear floatBlock, ForwardTap tap) {
        super(Linear.builder().setUnits(units(floatBlock)).optBias(hasBias(floatBlock)));
        observation = new ObserverCore(floatBlock, tap, parameters);
        inputShapes = floatBlock.getInputShapes();
    }

    private static long units(Linear l) {
        return l.getDirectParameters().get("weight").getArray().getShape().get(0);
    }

    private static boolean hasBias(Linear l) {
        return l.getDirectParameters().contains("bias");
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
