package ai.djlquant.observe;

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

/** MinMax and MovingAverageMinMax observers. */
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
        // min-max makes per-tensor parameters only (weights get per-channel ones elsewhere)
        assertThrows(
                IllegalArgumentException.class,
                () -> new MinMaxEstimator().estimate(o, QuantScheme.int8WeightPerChannel(1)));
        // integer tensors are observed as their values
        MinMaxObserver ints = new MinMaxObserver();
        try (NDArray a = manager.create(new int[] {5, -2, 9})) {
            ints.update(a);
        }
        assertEquals(-2f, ints.getMin());
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
}
