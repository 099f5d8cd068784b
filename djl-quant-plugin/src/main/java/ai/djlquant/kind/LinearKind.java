package ai.djlquant.kind;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djlquant.nn.ForwardTap;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.nn.ObservedLinear;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.nn.WeightOnlyLinear;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

/** DJL's {@link Linear}, its int8 block {@link QuantizedLinear} and its weight-only block {@link WeightOnlyLinear}. */
final class LinearKind extends LayerKind {

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "Linear";
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> floatType() {
        return Linear.class;
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> int8Type() {
        return QuantizedLinear.class;
    }

    /** {@inheritDoc} */
    @Override
    public ObservedBlock observe(Block floatBlock, ForwardTap tap) {
        return new ObservedLinear((Linear) floatBlock, tap);
    }

    /** {@inheritDoc} */
    @Override
    public Block quantize(
            Block floatBlock, QuantParams activation, FusedActivation fused, boolean perTensorWeights) {
        QuantizedLinear.Builder b = QuantizedLinear.builder().setFloatBlock((Linear) floatBlock);
        (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                .optFusedActivation(fused)
                .optPerTensorWeights(perTensorWeights);
        return b.build();
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> weightOnlyType() {
        return WeightOnlyLinear.class;
    }

    /** {@inheritDoc} */
    @Override
    public Block quantizeWeightOnly(Block floatBlock, int bits, int groupSize, boolean symmetric) {
        return WeightOnlyLinear.builder()
                .setFloatBlock((Linear) floatBlock)
                .optFormat(bits, groupSize, symmetric)
                .build();
    }

    /** {@inheritDoc} */
    @Override
    public Block newWeightOnlyBlock(
            LayerStructure structure, int bits, int groupSize, boolean symmetric) {
        DenseStructure s = (DenseStructure) structure;
        return WeightOnlyLinear.builder()
                .setUnits(s.units())
                .optBias(s.bias())
                .optFormat(bits, groupSize, symmetric)
                .build();
    }

    /** {@inheritDoc} */
    @Override
    public DenseStructure structureOf(Block block) {
        // Linear keeps its units private; its output shape for one input feature shows them
        long units = block.getOutputShapes(new Shape[] {new Shape(1)})[0].get(0);
        return new DenseStructure(units, block.getDirectParameters().contains("bias"));
    }

    /** {@inheritDoc} */
    @Override
    public Block newFloatBlock(LayerStructure structure) {
        DenseStructure s = (DenseStructure) structure;
        return Linear.builder().setUnits(s.units()).optBias(s.bias()).build();
    }

    /** {@inheritDoc} */
    @Override
    public Block newInt8Block(LayerStructure structure) {
        DenseStructure s = (DenseStructure) structure;
        return QuantizedLinear.builder().setUnits(s.units()).optBias(s.bias()).build();
    }

    /** {@inheritDoc} */
    @Override
    public LayerStructure readStructure(StructureFields fields) {
        return new DenseStructure(fields.positiveLong("units"), fields.bool("bias"));
    }

    /** {@inheritDoc} */
    @Override
    public String whyNotFoldable(Block layer) {
        Shape in = layer.getInputShapes()[0];
        return in.dimension() == 2
                ? null
                : "the Linear's input " + in + " is not 2-D, so axis 1 is not its units";
    }
}
