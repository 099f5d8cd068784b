package ai.djlquant.nn;

import ai.djl.nn.convolutional.Convolution;

/**
 * Copies a convolution's structure (kernel, stride, padding, dilation, filters, groups, bias) into
 * a builder: what the int8 convolutions' builders and the observed convolutions do with the float
 * block they are built from.
 */
final class ConvBuilders {

    private ConvBuilders() {}

    /**
     * Sets {@code to}'s structure to {@code from}'s.
     *
     * @return {@code to}
     */
    static <T extends Convolution.ConvolutionBuilder<?>> T copy(Convolution from, T to) {
        to.setKernelShape(from.getKernelShape());
        to.optStride(from.getStride());
        to.optPadding(from.getPadding());
        to.optDilation(from.getDilation());
        to.setFilters(from.getFilters());
        to.optGroups(from.getGroups());
        to.optBias(from.isIncludeBias());
        return to;
    }
}
