package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.LayoutType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.LinkedHashMap;
import java.util.Objects;

/**
 * A {@link Convolution} that runs a float {@link Conv1d} and reports its inputs and outputs to a
 * {@link LayerTap} (see {@link ObservedBlock}). It is not a {@code Conv1d}: DJL's Conv1d cannot be
 * subclassed outside DJL.
 */
public final class ObservedConv1d extends Convolution implements ObservedBlock {

    private static final LayoutType[] LAYOUT = {
        LayoutType.BATCH, LayoutType.CHANNEL, LayoutType.WIDTH
    };

    private final Conv1d floatBlock;
    private final LayerTap tap;

    /**
     * Wraps an initialised float Conv1d.
     *
     * @param floatBlock the float block
     * @param tap the tap to call on every forward
     */
    public ObservedConv1d(Conv1d floatBlock, LayerTap tap) {
        super(
                Conv1d.builder()
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
        shareParameters(parameters, weight, bias);
        inputShapes = floatBlock.getInputShapes();
    }

    /** Puts the float block's parameters in place of the ones the constructor made. */
    static void shareParameters(
            LinkedHashMap<String, Parameter> parameters, Parameter weight, Parameter bias) {
        parameters.clear();
        parameters.put("weight", weight);
        if (bias != null) {
            parameters.put("bias", bias);
        }
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
    protected LayoutType[] getExpectedLayout() {
        return LAYOUT;
    }

    /** {@inheritDoc} */
    @Override
    protected String getStringLayout() {
        return "NCW";
    }

    /** {@inheritDoc} */
    @Override
    protected int numDimensions() {
        return 3;
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
