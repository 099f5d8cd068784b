/**
 * Observers and range estimators: what calibration learns about a tensor's values, and how that
 * becomes {@link ai.djlquant.quant.QuantParams}.
 *
 * <p>Observers ({@link ai.djlquant.observe.MinMaxObserver}, {@link
 * ai.djlquant.observe.MovingAverageMinMaxObserver}, {@link ai.djlquant.observe.HistogramObserver})
 * see batches through {@code update(NDArray)}, keep a fixed amount of memory whatever the number of
 * batches, and skip and count NaN and infinite values.
 *
 * <p>Range estimators ({@link ai.djlquant.observe.MinMaxEstimator}, {@link
 * ai.djlquant.observe.PercentileEstimator}, {@link ai.djlquant.observe.EntropyEstimator}, {@link
 * ai.djlquant.observe.MseEstimator}) turn an observer's state into parameters for a scheme.
 *
 * <p>This package depends only on {@code quant} and DJL's NDArray; it knows nothing about blocks or
 * kernels.
 */
package ai.djlquant.observe;
