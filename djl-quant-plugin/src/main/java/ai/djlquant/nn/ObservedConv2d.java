package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.Objects;

/**
 * A {@link Conv2d} that runs a float Conv2d and reports its inputs and outputs to a {@link
 * LayerTap} (see {@link ObservedBlock}).
 */
public final class ObservedConv2d extends Conv2d implements ObservedBlock {

    private final Conv2d floatBlock;
    private final LayerTap tap;

    /**
     * Wraps an initialised float Conv2d.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedConv2d(Conv2d floatBlock, LayerTap tap) {
        super(
                Conv2d.builder()
                        .setKernelShape(floatBlock.getKernelShape())
                        .optStride(floatBlock.getStride())
                        .optPadding(floatBlock.getPadding())
                        .optDilation(floatBlock.getDilation())
                        .setFilters(floatBlock.getFilters())
                        .optGroups(floatBlock.getGroups())
                        .optBias(floatBlock.isIncludeBias()));
        this.floatBlock = floatBlock;
        this.tap = Objects.requireNonNull(tap, "tap");
        weight = floatBlock.getDirectParameters().get("weight");
        bias = includeBias ? floatBlock.getDirectParameters().get("bias") : null;
        ObservedConv1d.shareParameters(parameters, weight, bias);
        inputShapes = floatBlock.getInputShapes();
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
