package ai.djlquant.nn;

import ai.djl.ndarray.types.LayoutType;
import ai.djl.nn.convolutional.Convolution;

/**
 * What DJL's {@code Conv1d} adds to {@link Convolution} (NCW layout, three dimensions), for the
 * blocks that stand in for a Conv1d: DJL's Conv1d has only a package-private constructor, so no
 * class outside DJL can extend it, and {@link QuantizedConv1d} and {@link ObservedConv1d} extend
 * this instead.
 */
abstract class NcwConvolution extends Convolution {

    private static final LayoutType[] EXPECTED_LAYOUT = {
        LayoutType.BATCH, LayoutType.CHANNEL, LayoutType.WIDTH
    };

    NcwConvolution(ConvolutionBuilder<?> builder) {
        super(builder);
    }

    /** {@inheritDoc} */
    @Override
    protected LayoutType[] getExpectedLayout() {
        return EXPECTED_LAYOUT;
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
}
