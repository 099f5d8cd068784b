package ai.djlquant.examples.eval;

import java.util.Arrays;

/** Latency of one measured call (one batch), summarised over the timed iterations after warm-up. */
public final class LatencyStats {

    private final int batchSize;
    private final int iterations;
    private final double medianMs;
    private final double p90Ms;

    /**
     * Creates the summary.
     *
     * @param batchSize images per call
     * @param iterations timed calls
     * @param medianMs median time of one call, milliseconds
     * @param p90Ms 90th percentile time of one call, milliseconds
     */
    public LatencyStats(int batchSize, int iterations, double medianMs, double p90Ms) {
        this.batchSize = batchSize;
        this.iterations = iterations;
        this.medianMs = medianMs;
        this.p90Ms = p90Ms;
    }

    /**
     * Summarises raw timings (nearest-rank percentiles).
     *
     * @param batchSize images per call
     * @param nanos the time of each timed call, nanoseconds
     * @return the summary
     */
    public static LatencyStats of(int batchSize, long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no timings");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new LatencyStats(
                batchSize,
                sorted.length,
                percentile(sorted, 50) / 1e6,
                percentile(sorted, 90) / 1e6);
    }

    private static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /**
     * Returns the number of images per call.
     *
     * @return the batch size
     */
    public int getBatchSize() {
        return batchSize;
    }

    /**
     * Returns the number of timed calls.
     *
     * @return the iterations
     */
    public int getIterations() {
        return iterations;
    }

    /**
     * Returns the median time of one call.
     *
     * @return milliseconds
     */
    public double getMedianMs() {
        return medianMs;
    }

    /**
     * Returns the 90th percentile time of one call.
     *
     * @return milliseconds
     */
    public double getP90Ms() {
        return p90Ms;
    }
}
