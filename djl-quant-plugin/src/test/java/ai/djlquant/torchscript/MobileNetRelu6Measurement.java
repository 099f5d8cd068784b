package ai.djlquant.torchscript;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.CalibrationData;
import ai.djlquant.LayerReport;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.plan.SpeedComparison;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A measurement, not a unit test (surefire's name patterns leave it out): the imported
 * torchvision mobilenet_v2 fixture quantized with ReLU6 fusion off and on, in one process, on the
 * same calibration batches; prints each one's whole-model output SQNR and its whole-model int8 vs
 * fp32 time at batch 1, with the host line and the load average. Run:
 * {@code mvn -B -ntp -q -o verify -pl djl-quant-plugin -Dtest=MobileNetRelu6Measurement
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class MobileNetRelu6Measurement {

    @Test
    void measure() throws Exception {
        try (NDManager data = NDManager.newBaseManager("PyTorch")) {
            data.getEngine().setRandomSeed(7);
            List<NDList> batches = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                batches.add(new NDList(data.randomNormal(new Shape(2, 3, 64, 64))));
            }
            for (boolean fuse : new boolean[] {false, true, false, true}) {
                try (Model model = TorchScriptImporterTest.importFixture("mobilenet_v2")) {
                    QuantizationReport r = Quantizer.quantize(model,
                            CalibrationData.fromBatches(batches),
                            TestConfigs.builder()
                                    .optFuseRelu(fuse)
                                    .optTimeModel(true)
                                    .optServingBatchSizes(1)
                                    .build());
                    int fused = 0;
                    for (LayerReport l : r.getLayers()) {
                        fused += "relu6".equals(l.getFusedActivation()) ? 1 : 0;
                    }
                    String load = Files.readString(Paths.get("/proc/loadavg")).trim();
                    System.out.println("# host: " + r.getHost().toLine());
                    for (SpeedComparison s : r.getSpeed().model()) {
                        System.out.printf(Locale.ROOT,
                                "fusion %-3s relu6 fused %2d  whole-model SQNR %.2f dB  batch %d:"
                                        + " %s  (load average %s)%n",
                                fuse ? "on" : "off", fused, r.getWholeModelSqnrDb(), s.batchSize(),
                                s.describe(), load);
                    }
                }
            }
        }
    }
}
