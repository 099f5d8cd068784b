package ai.djlquant.examples.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.cv.Image;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.LayerReport;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

/**
 * The three reference models quantized on the committed calibration subset, evaluated on the
 * whole committed test split. With objective SIZE (every layer int8, whatever its speed here):
 * top-1 drops at most 0.5 points from the float model's recorded top-1 (issue 5; measured -0.09 to
 * +0.09; the main job checks the recorded values against the harness) and the parameters take at
 * most 0.27x their float bytes (measured 0.249-0.251x). With the default objective (BALANCED:
 * layers measurably slower in int8 on this host stay fp32, so which ones depends on the host):
 * top-1 drops at most 0.5 points, and every layer left fp32 says why. Speed is measured by {@link
 * QuantizeReferenceModels}' main, not here.
 */
class QuantizeReferenceModelsTest {

    private static IdxDataset test;
    private static List<Image> calibration;

    @BeforeAll
    static void data() throws Exception {
        test = IdxDataset.builder().setDirectory(TestData.testDir()).optUsage(Dataset.Usage.TEST)
                .build();
        test.prepare();
        calibration = CalibrationImages.load(TestData.calibrationDir());
    }

    @ParameterizedTest
    @EnumSource(ReferenceModel.class)
    void sizeObjectiveKeepsAccuracyAndQuartersTheBytes(ReferenceModel m) throws Exception {
        QuantizationConfig size = QuantizationConfig.builder().optObjective(Objective.SIZE).build();
        QuantizeReferenceModels.Result r =
                QuantizeReferenceModels.run(
                        m, TestData.modelsDir(), test, calibration, null, false, size);
        assertTrue(r.dropPoints() <= 0.5, m + ": top-1 " + r.fp32Top1 + " -> " + r.int8Top1);
        // every quantizable layer is int8; what stays fp32 is a type no layer kind quantizes
        // (the ViT's LayerNorms), and its bytes and the parameters outside any layer (the ViT's
        // position table) count whole: a quarter of the rest plus those, plus 3% for scales
        long keptBytes = 0;
        for (LayerReport l : r.report.getLayers()) {
            if (l.getMode() == QuantizationMode.FP32) {
                assertTrue(l.getReason().startsWith("not a quantizable layer type"), l.toString());
                keptBytes += l.getFloatBytes();
            }
        }
        long layerBytes =
                r.report.getLayers().stream().mapToLong(LayerReport::getFloatBytes).sum();
        long outsideLayers = r.fp32Bytes - layerBytes;
        double bound = (r.fp32Bytes - keptBytes - outsideLayers) * 0.27 + keptBytes + outsideLayers;
        assertTrue(
                r.int8Bytes <= bound,
                m + ": bytes " + r.fp32Bytes + " -> " + r.int8Bytes + ", bound " + bound);
        assertEquals(512, r.report.getCalibrationSamples());
    }

    @ParameterizedTest
    @EnumSource(ReferenceModel.class)
    void defaultConfigKeepsAccuracyAndSaysWhyALayerStaysFp32(ReferenceModel m) throws Exception {
        QuantizeReferenceModels.Result r =
                QuantizeReferenceModels.run(
                        m,
                        TestData.modelsDir(),
                        test,
                        calibration,
                        null,
                        false,
                        QuantizationConfig.defaults());
        assertTrue(r.dropPoints() <= 0.5, m + ": top-1 " + r.fp32Top1 + " -> " + r.int8Top1);
        assertEquals(Objective.BALANCED, r.report.getSpeed().objective());
        assertEquals(List.of(1, 32), r.report.getSpeed().servingBatchSizes());
        // the whole model is timed at both batch sizes whenever a layer is int8; on a host so
        // loaded that every layer timed slower, none is, and there is no int8 model to time
        boolean anyInt8 =
                r.report.getLayers().stream().anyMatch(l -> l.getMode() != QuantizationMode.FP32);
        assertEquals(anyInt8 ? 2 : 0, r.report.getSpeed().model().size(), r.report.toTable());
        for (LayerReport l : r.report.getLayers()) {
            if (l.getMode() == QuantizationMode.FP32) {
                assertTrue(
                        l.getReason().startsWith("AUTO (BALANCED): ")
                                || l.getReason().startsWith("not a quantizable layer type"),
                        l.toString());
            } else {
                assertEquals(2, l.getSpeeds().size(), l.toString());
            }
        }
    }
}
