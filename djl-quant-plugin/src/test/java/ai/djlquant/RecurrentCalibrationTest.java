package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djlquant.plan.QuantizationMode;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

/**
 * DJL's LSTM and GRU append their zero initial states to the input list they are given; the
 * calibration pass must give them a copy, so that the caller's batches stay intact and usable
 * after quantize (the {@code fromBatches} contract).
 */
class RecurrentCalibrationTest {

    @ParameterizedTest
    @ValueSource(strings = {"LSTM", "GRU"})
    void callersBatchesAreIntactAfterQuantize(String cell) {
        RecurrentBlock rnn =
                "LSTM".equals(cell)
                        ? LSTM.builder().setStateSize(8).setNumLayers(1).optBatchFirst(true).build()
                        : GRU.builder().setStateSize(8).setNumLayers(1).optBatchFirst(true).build();
        SequentialBlock net =
                new SequentialBlock()
                        .add(rnn)
                        .add(Blocks.batchFlattenBlock())
                        .add(Linear.builder().setUnits(5).build());
        try (Model model = TestModels.model(net, new Shape(4, 6, 3))) {
            List<NDList> batches = TestModels.batches(model.getNDManager(), 3, new Shape(4, 6, 3));
            List<float[]> before = new ArrayList<>();
            for (NDList b : batches) {
                before.add(b.singletonOrThrow().toFloatArray());
            }

            QuantizationReport report =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(batches), TestConfigs.bySqnr());

            assertFalse(
                    report.getLayers().stream()
                            .filter(l -> l.getBlockType().equals("Linear"))
                            .allMatch(l -> l.getMode() == QuantizationMode.FP32),
                    report.toTable());
            for (int i = 0; i < batches.size(); i++) {
                NDList b = batches.get(i);
                assertEquals(1, b.size(), "batch " + i + " gained arrays: " + b);
                assertArrayEquals(before.get(i), b.singletonOrThrow().toFloatArray(), "batch " + i);
                NDArray y = TestModels.run(model, b.singletonOrThrow()); // usable again
                assertEquals(new Shape(4, 5), y.getShape());
            }
            // and a second quantize of another model could read them again: count them once more
            assertEquals(12, CalibrationData.fromBatches(batches).count(model.getNDManager(), 100));
        }
    }
}
