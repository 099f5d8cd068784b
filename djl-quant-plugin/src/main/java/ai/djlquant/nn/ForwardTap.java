package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djlquant.annotations.Internal;

/**
 * Receives what an {@link ObservedBlock} sees: DJL has no forward hooks and {@code forward} is
 * final, so the observed blocks call a tap around the float block's forward instead.
 *
 * <p>A tap must not close or modify the arrays it is given; it copies what it keeps.
 */
@Internal
public interface ForwardTap {

    /**
     * Called before the float block runs.
     *
     * @param inputs the layer's inputs
     */
    default void beforeForward(NDList inputs) {}

    /**
     * Called after the float block ran.
     *
     * @param inputs the layer's inputs
     * @param outputs the float block's outputs
     */
    void afterForward(NDList inputs, NDList outputs);
}
