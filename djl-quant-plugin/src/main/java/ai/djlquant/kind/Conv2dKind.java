package ai.djlquant.kind;

import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djlquant.nn.ForwardTap;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.nn.ObservedConv2d;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

/** DJL's {@link Conv2d} and its int8 block {@link QuantizedConv2d}. */
final class Conv2dKind extends ConvolutionKind {

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "Conv2d";
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> floatType() {
        return Conv2d.class;
    }

    /** {@inheritDoc} */
    @Override
    public Class<? extends Block> int8Type() {
        return QuantizedConv2d.class;
    }

    @Override
    int spatialAxes() {
        return 2;
    }

    @Override
    Block buildFloat(ConvStructure s) {
        return s.applyTo(Conv2d.builder()).build();
    }

    @Override
    Block buildInt8(ConvStructure s) {
        return s.applyTo(QuantizedConv2d.builder()).build();
    }

    /** {@inheritDoc} */
    @Override
    public ObservedBlock observe(Block floatBlock, ForwardTap tap) {
        return new ObservedConv2d((Conv2d) floatBlock, tap);
    }

    /** {@inheritDoc} */
    @Override
    public Block quantize(
            Block floatBlock, QuantParams activation, FusedActivation fused, boolean perTensorWeights) {
        QuantizedConv2d.Builder b =
                QuantizedConv2d.builder().setFloatBlock((Conv2d) floatBlock);
        (activation == null ? b.optDynamic() : b.optActivationParams(activation))
                .optFusedActivation(fused)
                .optPerTensorWeights(perTensorWeights);
        return b.build();
    }
}
