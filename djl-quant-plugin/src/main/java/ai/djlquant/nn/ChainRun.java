package ai.djlquant.nn;

import ai.djlquant.annotations.Internal;

/**
 * Where an int8 chain sits among the children of a {@link ai.djl.nn.SequentialBlock}: the children
 * {@code from} (a {@link QuantizedLinear}, the chain's head) to {@code to - 1} (its tail, a
 * static one), with only static QuantizedLinears and pass-throughs between.
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
