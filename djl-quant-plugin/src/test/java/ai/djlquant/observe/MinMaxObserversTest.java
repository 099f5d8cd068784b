package ai.djlquant.observe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** MinMax, MovingAverageMinMax and PerChannelMinMax observers. */
class MinMaxObserversTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static void feed(Observer o, float[] values, Shape shape) {
        try (NDArray a = manager.create(values, shape)) {
            o.update(a);
        }
    }

    private static void feed(Observer o, float... values) {
        feed(o, values, new Shape(values.length));
    }

    private static List<float[]> batches(long seed, int count) {
        Random r = new Random(seed);
        List<float[]> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] b = new float[200];
            double scale = Math.exp(r.nextGaussian());
            for (int j = 0; j < b.length; j++) {
                b[j] = (float) (r.nextGaussian() * scale);
            }
            list.add(b);
        }
        return list;
    }

    @Test
    void minMaxTracksRangeAndSkipsNonFinite() {
        MinMaxObserver o = new MinMaxObserver();
        IllegalStateException empty = assertThrows(IllegalStateException.class, o::getMin);
        assertTrue(empty.getMessage().contains("MinMaxObserver has seen no finite values"));
        feed(o, 1f, -3f, Float.NaN);
        feed(o, Float.POSITIVE_INFINITY, 7f, Float.NEGATIVE_INFINITY);
        feed(o, new float[0]);
        assertEquals(-3f, o.getMin());
        assertEquals(7f, o.getMax());
        assertEquals(3, o.getCount());
        assertEquals(3, o.getNonFiniteCount());
        QuantParams p = new MinMaxEstimator().estimate(o, QuantScheme.uint8Activation(8));
        assertEquals(10f / 255f, p.scale());
        // integer tensors are observed as their values
        MinMaxObserver ints = new MinMaxObserver();
        try (NDArray a = manager.create(new int[] {5, -2, 9})) {
            ints.update(a);
        }
        assertEquals(-2f, ints.getMin());
    }

    @Test
    void minMaxMergeAndBytes() {
        List<float[]> bs = batches(1, 6);
        MinMaxObserver all = new MinMaxObserver();
        MinMaxObserver a = new MinMaxObserver();
        MinMaxObserver b = new MinMaxObserver();
        for (int i = 0; i < bs.size(); i++) {
            feed(all, bs.get(i));
            feed(i < 2 ? a : b, bs.get(i));
        }
        feed(b, Float.NaN);
        feed(all, Float.NaN);
        a.merge(b);
        assertEquals(all, a);
        assertEquals(all, Observers.fromBytes(all.toBytes()));
        assertEquals(new MinMaxObserver(), Observers.fromBytes(new MinMaxObserver().toBytes()));
    }

    @Test
    void movingAverageFollowsMomentum() {
        MovingAverageMinMaxObserver o =
                MovingAverageMinMaxObserver.builder().optMomentum(0.5).build();
        feed(o, 0f, 10f);
        assertEquals(0f, o.getMin());
        assertEquals(10f, o.getMax());
        feed(o, -4f, 2f);
        assertEquals(-2f, o.getMin());
        assertEquals(6f, o.getMax());
        feed(o, Float.NaN); // a batch without finite values does not move the average
        assertEquals(6f, o.getMax());
        assertEquals(2, o.getBatches());
        assertEquals(1, o.getNonFiniteCount());
        assertEquals(0.01, MovingAverageMinMaxObserver.builder().build().getMomentum());
        assertThrows(
                IllegalArgumentException.class,
                () -> MovingAverageMinMaxObserver.builder().optMomentum(0).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> MovingAverageMinMaxObserver.builder().optMomentum(1.5).build());
    }

    @Test
    void movingAverageMergeEqualsSequentialToRounding() {
        List<float[]> bs = batches(2, 20);
        for (int cut = 0; cut <= bs.size(); cut += 5) {
            MovingAverageMinMaxObserver all =
                    MovingAverageMinMaxObserver.builder().optMomentum(0.1).build();
            MovingAverageMinMaxObserver a =
                    MovingAverageMinMaxObserver.builder().optMomentum(0.1).build();
            MovingAverageMinMaxObserver b =
                    MovingAverageMinMaxObserver.builder().optMomentum(0.1).build();
            for (int i = 0; i < bs.size(); i++) {
                feed(all, bs.get(i));
                feed(i < cut ? a : b, bs.get(i));
            }
            a.merge(b);
            assertEquals(all.getBatches(), a.getBatches());
            assertEquals(all.getCount(), a.getCount());
            assertEquals(all.getMin(), a.getMin(), Math.abs(all.getMin()) * 1e-6);
            assertEquals(all.getMax(), a.getMax(), Math.abs(all.getMax()) * 1e-6);
            // and merging continues to work as the streams go on
            feed(all, bs.get(0));
            feed(a, bs.get(0));
            assertEquals(all.getMax(), a.getMax(), Math.abs(all.getMax()) * 1e-6);
            assertEquals(a, Observers.fromBytes(a.toBytes()));
        }
        MovingAverageMinMaxObserver other =
                MovingAverageMinMaxObserver.builder().optMomentum(0.2).build();
        assertThrows(
                IllegalArgumentException.class,
                () -> MovingAverageMinMaxObserver.builder().build().merge(other));
    }

    @Test
    void perChannelFindsTheHotChannel() {
        // NCHW activations [2, 4, 3, 3], channel 2 is hot
        float[] x = new float[2 * 4 * 9];
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) {
            int c = (i / 9) % 4;
            x[i] = (float) (r.nextGaussian() * 0.1) + (c == 2 ? 50f : 0f);
        }
        x[9 * 2 + 4] = 80f; // the hot channel's maximum, in sample 0
        PerChannelMinMaxObserver o = PerChannelMinMaxObserver.builder().setAxis(1).build();
        feed(o, x, new Shape(2, 4, 3, 3));
        float[] maxs = o.getMaxs();
        float[] mins = o.getMins();
        assertEquals(4, o.getChannels());
        assertEquals(80f, maxs[2]);
        for (int c : new int[] {0, 1, 3}) {
            assertTrue(maxs[c] < 1f && mins[c] > -1f, "channel " + c);
            float expectedMax = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < x.length; i++) {
                if ((i / 9) % 4 == c) {
                    expectedMax = Math.max(expectedMax, x[i]);
                }
            }
            assertEquals(expectedMax, maxs[c]);
        }
        QuantScheme s =
                QuantScheme.builder()
                        .optSymmetric(true)
                        .optRestrictedRange(true)
                        .optPerChannel(1)
                        .build();
        float[] scales = new MinMaxEstimator().estimate(o, s).getScales();
        assertEquals(80f / 127f, scales[2]);
        assertTrue(scales[0] < 0.01f);
    }

    @Test
    void perChannelNonFiniteAndMismatches() {
        PerChannelMinMaxObserver o = PerChannelMinMaxObserver.builder().setAxis(0).build();
        feed(o, new float[] {1f, Float.NaN, Float.NaN, Float.NaN, 2f, -5f}, new Shape(3, 2));
        assertEquals(3, o.getCount());
        assertEquals(3, o.getNonFiniteCount());
        IllegalStateException e = assertThrows(IllegalStateException.class, o::getMins);
        assertTrue(e.getMessage().contains("channel 1 on axis 0"), e.getMessage());
        feed(o, new float[] {0f, 0f, 4f, Float.POSITIVE_INFINITY, 0f, 0f}, new Shape(3, 2));
        assertArrayEquals(new float[] {0f, 4f, -5f}, o.getMins());
        assertArrayEquals(new float[] {1f, 4f, 2f}, o.getMaxs());
        PerChannelMinMaxObserver before = (PerChannelMinMaxObserver) o.copy();
        IllegalArgumentException bad =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> feed(o, new float[4], new Shape(4, 1)));
        assertTrue(bad.getMessage().contains("has 4 channels on axis 0, the observer has seen 3"));

        PerChannelMinMaxObserver axis2 = PerChannelMinMaxObserver.builder().setAxis(2).build();
        IllegalArgumentException range =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> feed(axis2, new float[3], new Shape(3)));
        assertTrue(range.getMessage().contains("axis 2"), range.getMessage());
        assertEquals(before, o); // failed updates changed nothing
        assertThrows(
                IllegalArgumentException.class, () -> PerChannelMinMaxObserver.builder().build());
        assertThrows(
                IllegalArgumentException.class,
                () -> new MinMaxEstimator().estimate(o, QuantScheme.int8WeightPerChannel(1)));
    }

    @Test
    void perChannelMergeAndBytes() {
        Random r = new Random(5);
        PerChannelMinMaxObserver all = PerChannelMinMaxObserver.builder().setAxis(1).build();
        PerChannelMinMaxObserver a = PerChannelMinMaxObserver.builder().setAxis(1).build();
        PerChannelMinMaxObserver b = PerChannelMinMaxObserver.builder().setAxis(1).build();
        for (int i = 0; i < 6; i++) {
            float[] x = new float[5 * 8 * 3];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (r.nextGaussian() * (1 + j % 8));
            }
            feed(all, x, new Shape(5, 8, 3));
            feed(i % 2 == 0 ? a : b, x, new Shape(5, 8, 3));
        }
        PerChannelMinMaxObserver empty = PerChannelMinMaxObserver.builder().setAxis(1).build();
        empty.merge(a);
        empty.merge(b);
        assertEquals(all, empty);
        assertEquals(all, Observers.fromBytes(all.toBytes()));
        assertEquals(
                PerChannelMinMaxObserver.builder().setAxis(3).build(),
                Observers.fromBytes(
                        PerChannelMinMaxObserver.builder().setAxis(3).build().toBytes()));
        assertThrows(
                IllegalArgumentException.class,
                () -> a.merge(PerChannelMinMaxObserver.builder().setAxis(0).build()));
    }

    @Test
    void badBytes() {
        assertThrows(IllegalArgumentException.class, () -> Observers.fromBytes(new byte[0]));
        assertThrows(
                IllegalArgumentException.class,
                () -> Observers.fromBytes(new byte[] {1, 2, 3, 4, 5}));
        byte[] ok = new MinMaxObserver().toBytes();
        byte[] unknown = ok.clone();
        unknown[4] = 42;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Observers.fromBytes(unknown));
        assertTrue(e.getMessage().contains("unknown observer type 42"), e.getMessage());
        byte[] longer = java.util.Arrays.copyOf(ok, ok.length + 1);
        assertThrows(IllegalArgumentException.class, () -> Observers.fromBytes(longer));
    }
}
