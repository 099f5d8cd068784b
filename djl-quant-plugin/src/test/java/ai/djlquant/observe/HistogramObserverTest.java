package ai.djlquant.observe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

class HistogramObserverTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** The canonical state computed the slow way in Java: what every update order must reach. */
    static long[] referenceCounts(float[] values, int bins) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        int e = HistogramObserver.exponentFor(min, max, bins);
        long start = HistogramObserver.latticeIndex(min, e);
        long[] counts = new long[bins];
        for (float v : values) {
            if (Float.isFinite(v)) {
                counts[(int) (HistogramObserver.latticeIndex(v, e) - start)]++;
            }
        }
        return counts;
    }

    static float[] mixture(Random r, int n, double scale, double shift) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * scale + shift);
        }
        return x;
    }

    HistogramObserver observe(List<float[]> batches, int bins) {
        HistogramObserver h = HistogramObserver.builder().optBins(bins).build();
        for (float[] b : batches) {
            try (NDArray a = manager.create(b)) {
                h.update(a);
            }
        }
        return h;
    }

    @Test
    void countsMatchTheLatticeExactly() {
        Random r = new Random(1);
        float[] x = mixture(r, 100_003, 2.0, 0.5);
        HistogramObserver h = observe(List.of(x), 2048);
        assertArrayEquals(referenceCounts(x, 2048), h.getCounts());
        assertEquals(x.length, h.getCount());
        assertEquals(x.length, Arrays.stream(h.getCounts()).sum());
        // the data spans between half and all of the bins, bin width a power of two
        double span = (h.getMax() - h.getMin()) / h.getBinWidth();
        assertTrue(span > 1023 && span <= 2048, "span " + span);
        assertEquals(
                0,
                Math.getExponent(h.getBinWidth()) - Math.log(h.getBinWidth()) / Math.log(2),
                1e-9);
        assertTrue(h.getBinStart() <= h.getMin() && h.getMin() < h.getBinStart() + h.getBinWidth());
    }

    /** Widening re-bins without losing counts, and order never matters. */
    @Test
    void widenAndRebinKeepsEveryCountAndOrderDoesNotMatter() {
        Random r = new Random(2);
        List<float[]> batches = new ArrayList<>();
        batches.add(mixture(r, 5000, 0.001, 0)); // narrow first: finest bins
        batches.add(mixture(r, 5000, 1, 3)); // far to the right: widen many times
        batches.add(mixture(r, 5000, 10, -40)); // far to the left
        batches.add(mixture(r, 5000, 0.5, 0));
        float[] all = concat(batches);
        long[] expected = referenceCounts(all, 512);
        HistogramObserver forward = observe(batches, 512);
        assertArrayEquals(expected, forward.getCounts());
        assertEquals(all.length, Arrays.stream(forward.getCounts()).sum());
        List<float[]> reversed = new ArrayList<>(batches);
        Collections.reverse(reversed);
        assertEquals(forward, observe(reversed, 512));
        assertEquals(forward, observe(List.of(all), 512));
    }

    @Test
    void nonFiniteValuesAreSkippedAndCounted() {
        float[] x = {1f, Float.NaN, -2f, Float.POSITIVE_INFINITY, 3f, Float.NEGATIVE_INFINITY};
        HistogramObserver h = observe(List.of(x), 64);
        assertEquals(3, h.getCount());
        assertEquals(3, h.getNonFiniteCount());
        assertEquals(-2f, h.getMin());
        assertEquals(3f, h.getMax());
        assertArrayEquals(referenceCounts(x, 64), h.getCounts());
        HistogramObserver onlyNan = observe(List.of(new float[] {Float.NaN, Float.NaN}), 64);
        assertEquals(2, onlyNan.getNonFiniteCount());
        IllegalStateException e = assertThrows(IllegalStateException.class, onlyNan::getMin);
        assertTrue(e.getMessage().contains("2 NaN or infinite values skipped"), e.getMessage());
    }

    @Test
    void constantAndExtremeTensors() {
        HistogramObserver zeros = observe(List.of(new float[100]), 2048);
        assertEquals(100, zeros.getCounts()[0]);
        assertEquals(0f, zeros.getMin());
        HistogramObserver c = observe(List.of(new float[] {1000.5f, 1000.5f}), 2048);
        assertEquals(2, Arrays.stream(c.getCounts()).sum());
        float[] extreme = {
            -Float.MAX_VALUE, Float.MAX_VALUE, 0f, Float.MIN_VALUE, -Float.MIN_VALUE
        };
        HistogramObserver x = observe(List.of(extreme), 2048);
        assertArrayEquals(referenceCounts(extreme, 2048), x.getCounts());
        HistogramObserver tiny =
                observe(List.of(new float[] {Float.MIN_VALUE, 0f, -Float.MIN_VALUE}), 16);
        assertEquals(3, Arrays.stream(tiny.getCounts()).sum());
    }

    @Test
    void badConfiguration() {
        assertThrows(
                IllegalArgumentException.class,
                () -> HistogramObserver.builder().optBins(8).build());
        HistogramObserver a = HistogramObserver.builder().optBins(64).build();
        assertThrows(IllegalStateException.class, a::getBinWidth);
    }

    @Test
    void largeNonContiguousAndTypedInputs() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(8, 16, 32, 32));
            HistogramObserver h = HistogramObserver.builder().build();
            h.update(x.transpose(0, 2, 3, 1)); // not contiguous
            HistogramObserver direct = HistogramObserver.builder().build();
            direct.update(x);
            assertEquals(direct, h);
            HistogramObserver half = HistogramObserver.builder().build();
            half.update(x.toType(DataType.FLOAT16, false));
            assertEquals(x.size(), half.getCount());
            assertNotEquals(0, half.getCounts()[0]);
            // the input is left as it was, in its manager
            assertEquals(m, x.getManager());
            assertEquals(new Shape(8, 16, 32, 32), x.getShape());
        }
    }

    static float[] concat(List<float[]> parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] all = new float[n];
        int i = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, i, p.length);
            i += p.length;
        }
        return all;
    }
}
