package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

/**
 * {@code Thread.interrupt()} during a quantization stops it at the next calibration batch or
 * layer: the model is rolled back, a {@link QuantizationInterruptedException} says where, and the
 * thread's interrupt status stays set. The interrupt is raised on the quantizing thread itself at
 * a chosen point (a hook), so that where it stops is deterministic.
 */
class QuantizerInterruptTest {

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted(); // never leak the status into other tests
    }

    /** Interrupts the current thread when a step whose name starts with {@code prefix} is done. */
    private static StepHooks interruptAt(String prefix) {
        return s -> {
            if (s.startsWith(prefix)) {
                Thread.currentThread().interrupt();
            }
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"prepare", "calibrate", "build static ", "decide", "convert "})
    void interruptStopsAtTheNextBatchOrLayerRollsBackAndKeepsTheStatus(String at) {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 3, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            QuantizationInterruptedException e =
                    assertThrows(
                            QuantizationInterruptedException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.bySqnr(),
                                            interruptAt(at)));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
            assertInstanceOf(InterruptedException.class, e.getCause());
            assertTrue(e.getMessage().contains("(after " + at), e.getMessage());
            assertTrue(e.getMessage().contains("the model is unchanged"), e.getMessage());
            Thread.interrupted();
            before.assertUnchanged(model, x);
            // and the model quantizes cleanly afterwards
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            assertEquals(8, r.getLayers().size());
        }
    }

    @Test
    void interruptDuringCalibrationStopsBeforeTheNextBatch() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 3, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            boolean[] calibrating = {false};
            // the source interrupts its reader when calibration asks for batch 1 (counting the
            // samples beforehand reads it too, before the hook arms it)
            List<NDList> interrupting =
                    new java.util.AbstractList<>() {
                        @Override
                        public NDList get(int i) {
                            if (i == 1 && calibrating[0]) {
                                Thread.currentThread().interrupt();
                            }
                            return cal.get(i);
                        }

                        @Override
                        public int size() {
                            return cal.size();
                        }
                    };
            QuantizationInterruptedException e =
                    assertThrows(
                            QuantizationInterruptedException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(interrupting),
                                            TestConfigs.bySqnr(),
                                            s -> calibrating[0] |= s.equals("prepare")));
            assertTrue(e.getMessage().contains("(before calibration batch 1)"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
            Thread.interrupted();
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void anInterruptedThreadDoesNotStart() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 1, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            Thread.currentThread().interrupt();
            QuantizationInterruptedException e =
                    assertThrows(
                            QuantizationInterruptedException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.bySqnr()));
            assertTrue(e.getMessage().contains("before it started"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted());
            Thread.interrupted();
            before.assertUnchanged(model, x);
        }
    }
}
