package ai.djlquant.observe;

/** An observer that knows one range for the whole tensor. */
public interface TensorRangeObserver extends Observer {

    /**
     * Returns the low end of the observed range.
     *
     * @return the minimum
     * @throws IllegalStateException if no finite value has been seen
     */
    float getMin();

    /**
     * Returns the high end of the observed range.
     *
     * @return the maximum
     * @throws IllegalStateException if no finite value has been seen
     */
    float getMax();
}
