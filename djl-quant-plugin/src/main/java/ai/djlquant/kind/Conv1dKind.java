package ai.djlquant.kind;

import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv1d;
import ai.djlquant.nn.ForwardTap;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.nn.ObservedConv1d;
import ai.djlquant.nn.QuantizedConv1d;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

/** DJL's {@link Conv1d} and its int8 block {@link QuantizedConv1d}. */
final class Conv1dKind extends ConvolutionKind {

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "Conv1d";
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> floatType() {
        return Conv1d.class;
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> int8Type() {
        return QuantizedConv1d.class;
    }

    @Override
    int spatialAxes() {
        return 1;
    }

    @Override
    Block buildFloat(ConvStructure s) {
        return s.applyTo(Conv1d.builder()).build();
    }

    @Override
    Block buildInt8(ConvStructure s) {
        return s.applyTo(QuantizedConv1d.builder()).build();
    }

    /** {@inheritDoc} */
    @Override
    public ObservedBlock observe(Block floatBlock, ForwardTap tap) {
        return new ObservedConv1d((Conv1d) floatBlock, tap);
    }

    /** {@inheritDoc} */
    @Override
    public Block quantize(
            Block floatBlock, QuantParams activation, FusedActivation fused, boolean perTensorWeights) {
        QuantizedConv1d.Builder b =
                QuantizedConv1d.builder().setFloatBlock((Conv1d) floatBlock);
        (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                .optFusedActivation(fused)
                .optPerTensorWeights(perTensorWeights);
        return b.build();
    }
}
