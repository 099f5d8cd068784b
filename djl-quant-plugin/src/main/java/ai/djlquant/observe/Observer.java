package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

/**
 * Gathers statistics of a tensor's values over calibration batches.
 *
 * <p>Contract of every observer:
 *
 * <ul>
 *   <li>{@link #update(NDArray)} folds in one batch; the work on the batch's elements runs on the
 *       engine, or in one pass over a zero-copy view of the tensor's memory (a contiguous CPU
 *       tensor on the PyTorch engine), not over a Java copy of it;
 *   <li>memory is fixed by the configuration, whatever the number of batches;
 *   <li>NaN and infinite values are skipped and counted ({@link #getNonFiniteCount()}); they never
 *       reach a range;
 *   <li>asking an observer that has seen no finite value for a range throws {@link
 *       IllegalStateException}.
 * </ul>
 *
 * <p>Observers are not thread-safe.
 */
public interface Observer {

    /**
     * Folds one batch into the statistics.
     *
     * @param x the batch, any numeric type and shape
     * @throws IllegalArgumentException if the tensor does not fit the observer's configuration (for
     *     example a per-channel axis the tensor does not have)
     */
    void update(NDArray x);

    /**
     * Returns the number of finite values seen.
     *
     * @return the number of finite values
     */
    long getCount();

    /**
     * Returns the number of NaN and infinite values seen and skipped.
     *
     * @return the number of non-finite values
     */
    long getNonFiniteCount();

    /**
     * Returns whether no finite value has been seen yet.
     *
     * @return whether the observer is empty
     */
    default boolean isEmpty() {
        return getCount() == 0;
    }
}
