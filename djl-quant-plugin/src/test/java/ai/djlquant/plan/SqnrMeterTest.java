package ai.djlquant.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

class SqnrMeterTest {

    @Test
    void accumulatesPowersOverBatches() {
        try (NDManager m = NDManager.newBaseManager()) {
            SqnrMeter meter = new SqnrMeter();
            assertTrue(Double.isNaN(meter.decibels()));
            // batch 1: signal 1+4 = 5, noise 0.01+0.04 = 0.05; batch 2: signal 9, noise 0.09
            meter.add(m.create(new float[] {1, 2}), m.create(new float[] {1.1f, 1.8f}));
            meter.add(m.create(new float[] {3}), m.create(new float[] {3.3f}));
            assertEquals(10 * Math.log10(14 / 0.14), meter.decibels(), 1e-4);
            assertEquals(3, meter.getValues());
            NDArray a = m.create(new float[] {1, 2}, new Shape(2));
            SqnrMeter exact = new SqnrMeter();
            exact.add(a, a);
            assertEquals(Double.POSITIVE_INFINITY, exact.decibels());
            SqnrMeter nan = new SqnrMeter();
            nan.add(m.create(new float[] {Float.NaN}), m.create(new float[] {1}));
            assertTrue(nan.isNonFinite());
            assertTrue(Double.isNaN(nan.decibels()));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> meter.add(a, m.create(new float[] {1, 2, 3})));
        }
    }
}
