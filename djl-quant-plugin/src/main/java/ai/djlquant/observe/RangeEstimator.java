package ai.djlquant.observe;

import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

/**
 * Turns an observer's state into quantization parameters for a scheme: the choice of the range that
 * the grid covers (and so of what gets clipped).
 */
public interface RangeEstimator {

    /**
     * Returns parameters for the values the observer has seen.
     *
     * @param observer the observer
     * @param scheme the scheme the parameters are for
     * @return the parameters
     * @throws IllegalArgumentException if this estimator cannot use this observer or scheme
     * @throws IllegalStateException if the observer has seen no finite value
     */
    QuantParams estimate(Observer observer, QuantScheme scheme);
}
