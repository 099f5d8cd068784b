package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;

import java.util.Objects;

/**
 * A {@link Linear} that runs a float Linear and reports its inputs and outputs to a {@link
 * LayerTap} (see {@link ObservedBlock}). Calibration puts it in the tree; conversion takes it out.
 */
public final class ObservedLinear extends Linear implements ObservedBlock {

    private final Linear floatBlock;
    private final LayerTap tap;

    /**
     * Wraps an initialised float Linear.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedLinear(Linear floatBlock, LayerTap tap) {
        super(Linear.builder().setUnits(units(floatBlock)).optBias(hasBias(floatBlock)));
        this.floatBlock = floatBlock;
        this.tap = Objects.requireNonNull(tap, "tap");
        parameters.clear(); // the float block's own Parameter objects, same names, same order
        for (Pair<String, Parameter> p : floatBlock.getDirectParameters()) {
            parameters.put(p.getKey(), p.getValue());
        }
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
        return floatBlock;
    }

    /** {@inheritDoc} */
    @Override
    public LayerTap getTap() {
        return tap;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return ObservedBlock.forwardThrough(
                floatBlock, tap, parameterStore, inputs, training, params);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "Observed(" + floatBlock + ")";
    }
}
