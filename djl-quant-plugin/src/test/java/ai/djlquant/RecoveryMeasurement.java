package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.torchscript.TorchScriptImporter;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A measurement, not a unit test (surefire's name patterns leave it out): the recovery techniques
 * alone and together on the imported torchvision mobilenet_v2 fixture (random weights, random
 * normal calibration batches) and on the test transformer stacks (DJL's post-norm encoder, and the
 * pre-norm layer of the reference ViT with LayerNorm outlier channels), printing the whole-model
 * SQNR of each run and each technique's before and after. Run: {@code mvn -B -ntp -q -o verify
 * -pl djl-quant-plugin -Dtest=RecoveryMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class RecoveryMeasurement {

    private record Case(String name, Supplier<Model> model, Shape batch) {}

    @Test
    void measure() throws Exception {
        List<Case> cases =
                List.of(
                        new Case("mobilenet_v2.pt", RecoveryMeasurement::mobileNet, new Shape(2, 3, 64, 64)),
                        new Case("mobilenet-like", () -> TestModels.model(RecoveryTest.mobileNetLike(),
                                new Shape(1, 4, 12, 12)), new Shape(8, 4, 12, 12)),
                        new Case("post-norm encoders", () -> TestModels.model(TestModels.transformer(),
                                new Shape(1, 8, 32)), new Shape(8, 8, 32)),
                        new Case("pre-norm layer", () -> {
                            Model m = TestModels.model(RecoveryTest.preNorm(), new Shape(1, 6, 16));
                            RecoveryTest.outlierChannels(m.getBlock());
                            return m;
                        }, new Shape(8, 6, 16)));
        String[] names = {"default", "CLE", "SmoothQuant", "bias correction", "all three"};
        System.out.println("# " + Files.readString(Paths.get("/proc/loadavg")).trim());
        for (Case c : cases) {
            try (NDManager data = NDManager.newBaseManager("PyTorch")) {
                data.getEngine().setRandomSeed(7);
                List<NDList> batches = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    batches.add(new NDList(data.randomNormal(c.batch())));
                }
                for (int k = 0; k < names.length; k++) {
                    QuantizationConfig.Builder b = TestConfigs.builder();
                    if (k == 1 || k == 4) {
                        b.optCrossLayerEqualization(true);
                    }
                    if (k == 2 || k == 4) {
                        b.optSmoothQuant(0.5);
                    }
                    b.optBiasCorrection(k == 3 || k == 4); // on by default: off in the other rows
                    try (Model model = c.model().get()) {
                        QuantizationReport r =
                                Quantizer.quantize(model, CalibrationData.fromBatches(batches), b.build());
                        System.out.printf(Locale.ROOT, "%-20s %-16s whole-model SQNR %6.2f dB%n",
                                c.name(), names[k], r.getWholeModelSqnrDb());
                        for (QuantizationReport.Recovery t : r.getRecovery()) {
                            System.out.printf(Locale.ROOT, "    %-24s %6.2f -> %6.2f dB, %d layers; %s%n",
                                    t.technique(), t.wholeBeforeDb(), t.wholeAfterDb(), t.layers().size(), t.note());
                        }
                    }
                }
            }
        }
        System.out.println("# " + Files.readString(Paths.get("/proc/loadavg")).trim());
    }

    private static Model mobileNet() {
        try {
            return TorchScriptImporter.builder(Paths.get("src/test/resources/torchscript/mobilenet_v2.pt"))
                    .optInputShapes(new Shape(1, 3, 64, 64))
                    .optInputTypes(DataType.FLOAT32)
                    .build()
                    .importModel();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
