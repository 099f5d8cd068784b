package ai.djlquant.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

class RangeEstimatorTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static final List<QuantScheme> SCHEMES =
            List.of(
                    QuantScheme.uint8Activation(8),
                    QuantScheme.uint8Activation(7),
                    QuantScheme.builder().optSymmetric(true).optRestrictedRange(true).build());

    static Map<String, RangeEstimator> estimators(double percentile) {
        Map<String, RangeEstimator> m = new LinkedHashMap<>();
        m.put("min-max", new MinMaxEstimator());
        m.put(
                "percentile " + percentile,
                PercentileEstimator.builder().optPercentile(percentile).build());
        m.put("entropy", new EntropyEstimator());
        m.put("mse", new MseEstimator());
        return m;
    }

    static double sqnr(NDArray x, QuantParams p) {
        return Sqnr.decibels(x, AffineQuantizer.dequantize(AffineQuantizer.quantize(x, p), p));
    }

    static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Outliers at 30 to 60 sigma, either sign. */
    static float[] outliers(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((30 + 30 * r.nextDouble()) * (r.nextBoolean() ? 1 : -1));
        }
        return x;
    }

    @Test
    void uniformDataAllEstimatorsAgreeWithMinMax() {
        Random r = new Random(11);
        float[][] data = new float[2][200_000];
        for (int i = 0; i < data[0].length; i++) {
            data[0][i] = r.nextFloat() * 4 - 1; // [-1, 3): two-sided
            data[1][i] = r.nextFloat() * 6; // [0, 6): one-sided, as after a ReLU
        }
        for (float[] x : data) {
            HistogramObserver h = HistogramObserver.builder().build();
            try (NDArray a = manager.create(x)) {
                h.update(a);
            }
            for (QuantScheme s : SCHEMES) {
                QuantParams minMax = new MinMaxEstimator().estimate(h, s);
                for (Map.Entry<String, RangeEstimator> e : estimators(99.99).entrySet()) {
                    QuantParams p = e.getValue().estimate(h, s);
                    assertEquals(
                            minMax.scale(),
                            p.scale(),
                            minMax.scale() * 0.01,
                            e.getKey() + " on " + s);
                    assertTrue(
                            Math.abs(minMax.zeroPoint() - p.zeroPoint()) <= 2,
                            e.getKey() + " on " + s);
                }
            }
        }
    }

    /**
     * 0.1% far outliers. Prints the SQNR table: over all values, and over the Gaussian body alone
     * (the 99.9% of values the clipping estimators protect).
     */
    @Test
    void outliersAreClippedAndTheBodyGainsSqnr() {
        for (int outlierCount : new int[] {400, 4}) {
            Random r = new Random(12);
            float[] body = gaussian(r, 400_000 - outlierCount);
            float[] far = outliers(r, outlierCount);
            float[] all = HistogramObserverTest.concat(List.of(body, far));
            HistogramObserver h = HistogramObserver.builder().build();
            List<Map<String, double[]>> rows = new ArrayList<>();
            try (NDManager m = manager.newSubManager()) {
                NDArray allNd = m.create(all);
                NDArray bodyNd = m.create(body);
                h.update(allNd);
                double share = 100.0 * outlierCount / all.length;
                System.out.printf(
                        "%nGaussian(0, 1) with %.3f%% outliers at |x| in [30, 60], %d values,"
                                + " 2048-bin histogram%n",
                        share, all.length);
                System.out.printf(
                        "%-28s %-16s %20s %13s %13s%n",
                        "scheme", "estimator", "range", "SQNR all", "SQNR body");
                for (QuantScheme s : SCHEMES) {
                    Map<String, double[]> row = new LinkedHashMap<>();
                    for (Map.Entry<String, RangeEstimator> e : estimators(99.8).entrySet()) {
                        QuantParams p = e.getValue().estimate(h, s);
                        double lo = (s.qmin() - p.zeroPoint()) * (double) p.scale();
                        double hi = (s.qmax() - p.zeroPoint()) * (double) p.scale();
                        double[] v = {lo, hi, sqnr(allNd, p), sqnr(bodyNd, p)};
                        row.put(e.getKey(), v);
                        System.out.printf(
                                "%-28s %-16s [%8.3f, %8.3f] %10.2f dB %10.2f dB%n",
                                s.toString().replace(" per-tensor", ""),
                                e.getKey(),
                                v[0],
                                v[1],
                                v[2],
                                v[3]);
                    }
                    rows.add(row);
                }
            }
            for (Map<String, double[]> row : rows) {
                checkOutlierTable(row, outlierCount);
            }
        }
    }

    private static void checkOutlierTable(Map<String, double[]> row, int outlierCount) {
        double[] minMax = row.get("min-max");
        assertTrue(minMax[1] >= 30 && minMax[0] <= -30, "min-max keeps the outliers");
        boolean rare = outlierCount < 10;
        for (Map.Entry<String, double[]> e : row.entrySet()) {
            double[] v = e.getValue();
            String name = e.getKey();
            if (!name.equals("min-max") && !name.equals("mse")) {
                assertTrue(v[1] < 30 && v[0] > -30, name + " clips the outliers");
                // measurably better where 99.9% of the values are
                assertTrue(v[3] > minMax[3] + 10, name + " body SQNR " + v[3] + " vs " + minMax[3]);
            }
            // MSE is the best there is on all values, as it minimises exactly that
            assertTrue(row.get("mse")[2] >= v[2] - 0.05, "mse vs " + name);
        }
        double[] mse = row.get("mse");
        if (rare) {
            // rare enough: MSE clips them too, and gains on all values and on the body
            assertTrue(
                    Math.max(-mse[0], mse[1]) < 0.75 * Math.max(-minMax[0], minMax[1]),
                    "mse clips");
            assertTrue(mse[2] > minMax[2] + 1, "mse SQNR on all values");
            assertTrue(mse[3] > minMax[3] + 3, "mse SQNR on the body");
        } else {
            // 0.1%: clipping them would cost more squared error than it saves, so MSE keeps them
            assertTrue(Math.max(-mse[0], mse[1]) > 45, "mse keeps the 0.1% outliers");
        }
    }

    @Test
    void estimatorsRefuseWhatTheyCannotUse() {
        MinMaxObserver minMax = new MinMaxObserver();
        try (NDArray a = manager.create(new float[] {1f, 2f})) {
            minMax.update(a);
        }
        for (RangeEstimator e : estimators(99.9).values()) {
            if (e instanceof HistogramRangeEstimator) {
                IllegalArgumentException ex =
                        assertThrows(
                                IllegalArgumentException.class,
                                () -> e.estimate(minMax, QuantScheme.uint8Activation(8)));
                assertTrue(ex.getMessage().contains("needs a HistogramObserver"), ex.getMessage());
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                e.estimate(
                                        HistogramObserver.builder().build(),
                                        QuantScheme.uint8Activation(8)));
                HistogramObserver h = HistogramObserver.builder().build();
                try (NDArray a = manager.create(new float[] {1f, 2f})) {
                    h.update(a);
                }
                assertThrows(
                        IllegalArgumentException.class,
                        () -> e.estimate(h, QuantScheme.int8WeightPerChannel(0)));
            }
        }
        assertThrows(
                IllegalStateException.class,
                () ->
                        new MinMaxEstimator()
                                .estimate(new MinMaxObserver(), QuantScheme.uint8Activation(8)));
        assertThrows(
                IllegalArgumentException.class,
                () -> PercentileEstimator.builder().optPercentile(50).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> PercentileEstimator.builder().optPercentile(100.5).build());
    }

    @Test
    void constantAndTinyHistogramsGiveValidParameters() {
        for (float[] x : new float[][] {{0f, 0f, 0f}, {2.5f, 2.5f}, {-1f, 1f}}) {
            HistogramObserver h = HistogramObserver.builder().build();
            try (NDArray a = manager.create(x)) {
                h.update(a);
            }
            for (QuantScheme s : SCHEMES) {
                for (RangeEstimator e : estimators(99.99).values()) {
                    QuantParams p = e.estimate(h, s);
                    assertTrue(p.scale() > 0 && Float.isFinite(p.scale()), e + " " + s);
                    // the values themselves come back within half a step
                    try (NDArray a = manager.create(x)) {
                        float err =
                                AffineQuantizer.dequantize(AffineQuantizer.quantize(a, p), p)
                                        .sub(a)
                                        .abs()
                                        .max()
                                        .getFloat();
                        assertTrue(
                                err <= p.scale() * 0.5001 || e instanceof PercentileEstimator,
                                e + " " + s + " err " + err);
                    }
                }
            }
        }
    }

    @Test
    void percentileKnownAnswer() {
        // 0, 1, ..., 9999: the 99th percentile is about 9900
        float[] x = new float[10_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        HistogramObserver h = HistogramObserver.builder().build();
        try (NDArray a = manager.create(x)) {
            h.update(a);
        }
        PercentileEstimator p99 = PercentileEstimator.builder().optPercentile(99).build();
        HistogramRangeEstimator.Range range = p99.range(h, QuantScheme.uint8Activation(8));
        // asymmetric: half of the 1% from each tail
        assertEquals(50f, range.low(), 8f);
        assertEquals(9950f, range.high(), 8f);
        HistogramRangeEstimator.Range sym =
                p99.range(h, QuantScheme.builder().optSymmetric(true).build());
        assertEquals(9900f, sym.high(), 8f);
        assertEquals(-sym.high(), sym.low());
    }
}
