package ai.djlquant.quant;

import java.util.Arrays;
import java.util.Random;

/**
 * Non-uniform quantizer whose codebook is a one-dimensional k-means of the values, {@code k =
 * 2^bits}: the codebook that (locally) minimises the squared reconstruction error.
 *
 * <p>Deterministic for a given seed: k-means++ seeding on a sample of at most {@value #SEED_SAMPLE}
 * values drawn with {@code new Random(seed)}, then Lloyd iterations on all values. In one dimension
 * a cluster is a run of the sorted values, so each iteration costs {@code O(k log n)} with prefix
 * sums, not {@code O(n k)}.
 */
public final class KMeansQuantizer implements NonUniformQuantizer {

    /** Largest number of values the k-means++ seeding looks at. */
    public static final int SEED_SAMPLE = 1 << 16;

    private final int bits;
    private final long seed;
    private final int maxIterations;

    private KMeansQuantizer(Builder b) {
        bits = b.bits;
        seed = b.seed;
        maxIterations = b.maxIterations;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public int getBits() {
        return bits;
    }

    /** {@inheritDoc} */
    @Override
    public CodebookTensor quantize(float[] values, long[] shape) {
        SortedValues s = SortedValues.of(values, shape);
        double[] centres = seed(s);
        int k = centres.length;
        int[] bounds = new int[k + 1];
        int[] previous = null;
        for (int it = 0; it < maxIterations; it++) {
            Arrays.sort(centres);
            // cluster j holds the sorted values in (mid[j-1], mid[j]]
            bounds[0] = 0;
            bounds[k] = s.size();
            for (int j = 1; j < k; j++) {
                bounds[j] = s.upper((centres[j - 1] + centres[j]) / 2);
            }
            if (Arrays.equals(bounds, previous)) {
                break;
            }
            previous = bounds.clone();
            for (int j = 0; j < k; j++) {
                if (bounds[j + 1] > bounds[j]) {
                    centres[j] = s.mean(bounds[j], bounds[j + 1]);
                }
            }
        }
        Arrays.sort(centres);
        float[] codebook = new float[k];
        for (int j = 0; j < k; j++) {
            codebook[j] = (float) centres[j];
        }
        return new CodebookTensor(codebook, SortedValues.assign(values, codebook), shape);
    }

    /** k-means++ on a seeded sample; fewer centres when there are fewer distinct values. */
    private double[] seed(SortedValues s) {
        Random random = new Random(seed);
        int n = s.size();
        int m = Math.min(n, SEED_SAMPLE);
        double[] sample = new double[m];
        for (int i = 0; i < m; i++) {
            sample[i] = s.sorted[m == n ? i : random.nextInt(n)];
        }
        int distinct = 1;
        for (int i = 1; i < n && distinct <= (1 << bits); i++) {
            if (s.sorted[i] != s.sorted[i - 1]) {
                distinct++;
            }
        }
        int k = Math.min(1 << bits, distinct);
        if (k == distinct) {
            // as many levels as values: the codebook is the values themselves
            double[] c = new double[k];
            c[0] = s.sorted[0];
            for (int i = 1, j = 1; i < n; i++) {
                if (s.sorted[i] != s.sorted[i - 1]) {
                    c[j++] = s.sorted[i];
                }
            }
            return c;
        }
        double[] centres = new double[k];
        double[] d2 = new double[m];
        centres[0] = sample[random.nextInt(m)];
        Arrays.fill(d2, Double.POSITIVE_INFINITY);
        for (int c = 1; c < k; c++) {
            double total = 0;
            for (int i = 0; i < m; i++) {
                double d = sample[i] - centres[c - 1];
                d2[i] = Math.min(d2[i], d * d);
                total += d2[i];
            }
            if (total == 0) {
                // the sample has fewer distinct values than k: spread the rest over the range
                centres[c] = s.sorted[(int) ((long) c * (n - 1) / (k - 1))];
                continue;
            }
            double r = random.nextDouble() * total;
            int pick = m - 1;
            for (int i = 0; i < m; i++) {
                r -= d2[i];
                if (r < 0) {
                    pick = i;
                    break;
                }
            }
            centres[c] = sample[pick];
        }
        return centres;
    }

    /** Builds a {@link KMeansQuantizer}. */
    public static final class Builder {

        private int bits;
        private long seed;
        private int maxIterations = 300;

        private Builder() {}

        /**
         * Sets the index bit width (required, 1 to 8); the codebook has {@code 2^bits} entries.
         *
         * @param bits the bit width
         * @return this builder
         */
        public Builder setBits(int bits) {
            this.bits = bits;
            return this;
        }

        /**
         * Sets the seed of the k-means++ initialisation (default 0).
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets the largest number of Lloyd iterations (default 300; iterations stop earlier when
         * the clusters no longer change).
         *
         * @param maxIterations the iteration limit, at least 1
         * @return this builder
         */
        public Builder optMaxIterations(int maxIterations) {
            this.maxIterations = maxIterations;
            return this;
        }

        /**
         * Validates the settings and builds the quantizer.
         *
         * @return the quantizer
         * @throws IllegalArgumentException naming the field at fault
         */
        public KMeansQuantizer build() {
            SortedValues.checkBits(bits);
            if (maxIterations < 1) {
                throw new IllegalArgumentException(
                        "maxIterations must be at least 1, got " + maxIterations + ".");
            }
            return new KMeansQuantizer(this);
        }
    }
}
