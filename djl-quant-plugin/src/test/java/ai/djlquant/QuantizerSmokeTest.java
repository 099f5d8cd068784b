package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.quant.Sqnr;
import org.junit.jupiter.api.Test;

import java.util.List;

class QuantizerSmokeTest {

    @Test
    void transformer() {
        try (Model model = TestModels.model(TestModels.transformer(), new Shape(1, 8, 32))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 8, new Shape(4, 8, 32));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 8, 32));
            NDArray before = TestModels.run(model, x);
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), QuantizationConfig.defaults());
            System.out.println(r.toTable());
            NDArray after = TestModels.run(model, x);
            System.out.println("SQNR " + Sqnr.decibels(before, after));
        }
    }

    @Test
    void residual() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 8, new Shape(16, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(16, 3, 16, 16));
            NDArray before = TestModels.run(model, x);
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), QuantizationConfig.defaults());
            System.out.println(r.toTable());
            System.out.println(model.getBlock());
            NDArray after = TestModels.run(model, x);
            System.out.println("SQNR " + Sqnr.decibels(before, after));
        }
    }
}
