package ai.djlquant.nn;

import ai.djlquant.annotations.Internal;

/**
 * Where an int8 chain sits among the children of a {@link ai.djl.nn.SequentialBlock}: the children
 * {@code from} (the chain's head: a {@link QuantizedLinear} or {@link QuantizedConv2d}, or a
 * single-layer wrapper of one) to {@code to - 1} (its tail, a static link), with only static
 * links, pass-throughs and the steps the rules allow (max poolings between convolutions, a
 * flatten from the last convolution to the first Linear) between ({@link
 * ChainedSequentialBlock#findRuns}).
 *
 * @param from the index of the chain's first child
 * @param to the index after its last child
 */
@Internal
public record ChainRun(int from, int to) {

    /**
     * Checks the range.
     *
     * @param from the index of the chain's first child
     * @param to the index after its last child
     * @throws IllegalArgumentException if the range holds fewer than two children
     */
    public ChainRun {
        if (from < 0 || to < from + 2) {
            throw new IllegalArgumentException(
                    "an int8 chain spans at least two children, not [" + from + ", " + to + ").");
        }
    }
}
