package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djlquant.plan.QuantizationMode;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * The whole-model check (the int8 model against the fp32 outputs kept during calibration) and
 * its warnings, and a forced mode building and measuring only its own int8 block.
 */
class WholeModelTest {

    /** A chain of Linears with no nonlinearity between them: each one's error is carried on. */
    static SequentialBlock linearChain(int depth) {
        SequentialBlock b = new SequentialBlock();
        for (int i = 0; i < depth; i++) {
            b.add(Linear.builder().setUnits(64).build());
        }
        return b;
    }

    private static QuantizationReport quantize(
            Model model, List<NDList> cal, QuantizationConfig config, StepHooks hooks) {
        return Quantizer.quantize(model, CalibrationData.fromBatches(cal), config, hooks);
    }

    @Test
    void residualCnnReportsAFiniteWholeModelSqnr() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 16, new Shape(8, 3, 16, 16));
            QuantizationReport r =
                    quantize(model, cal, TestConfigs.bySqnr(), StepHooks.NONE);
            QuantizationReport.WholeModel w = r.getWholeModel();
            // measured: 29.0 dB whole model, worst layer 38.0 dB
            assertNull(w.unmeasured());
            assertEquals(64, w.samples()); // 8 batches of 8: the default cap
            assertEquals(8, w.batches());
            assertTrue(w.sqnrDb() > 15 && w.sqnrDb() < 60, r.toTable());
            assertTrue(w.worstLayerSqnrDb() >= w.sqnrDb() - 15, r.toTable());
            assertTrue(r.toTable().contains("whole model: SQNR "), r.toTable());
            assertTrue(r.toJson().contains("\"wholeModel\""), r.toJson());
        }
    }

    @Test
    void transformerReportsAFiniteWholeModelSqnr() {
        try (Model model = TestModels.model(TestModels.transformer(), new Shape(1, 8, 32))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 8, new Shape(4, 8, 32));
            QuantizationReport r =
                    quantize(
                            model,
                            cal,
                            TestConfigs.builder().optWholeModelSamples(8).build(),
                            StepHooks.NONE);
            QuantizationReport.WholeModel w = r.getWholeModel();
            // measured: 22.2 dB whole model, worst layer 36.6 dB
            assertEquals(8, w.samples());
            assertEquals(2, w.batches());
            assertTrue(w.sqnrDb() > 15 && w.sqnrDb() < 60, r.toTable());
        }
    }

    @Test
    void aDeepLinearChainWarnsOfAccumulation() {
        try (Model model = TestModels.model(linearChain(24), new Shape(1, 64))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 8, new Shape(16, 64));
            QuantizationReport r =
                    quantize(model, cal, TestConfigs.bySqnr(), StepHooks.NONE);
            QuantizationReport.WholeModel w = r.getWholeModel();
            // measured: every layer alone 33-40 dB, the chain 23.5 dB (24 layers' noise adds up)
            assertTrue(w.worstLayerSqnrDb() > 30, r.toTable());
            assertTrue(w.sqnrDb() > 18 && w.sqnrDb() < w.worstLayerSqnrDb() - 10, r.toTable());
            assertEquals(1, r.getWarnings().size(), r.toTable());
            assertTrue(r.getWarnings().get(0).contains("accumulate"), r.getWarnings().get(0));
            assertTrue(r.getNotes().contains("warning: " + r.getWarnings().get(0)));
            assertTrue(r.toJson().contains("accumulate"), r.toJson());
        }
    }

    @Test
    void aWholeModelSqnrUnderTheFloorWarns() {
        try (Model model = TestModels.model(linearChain(2), new Shape(1, 64))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(16, 64));
            QuantizationReport r =
                    quantize(
                            model,
                            cal,
                            TestConfigs.builder().optWholeModelFloor(60).build(),
                            StepHooks.NONE);
            assertEquals(1, r.getWarnings().size(), r.toTable());
            assertTrue(r.getWarnings().get(0).contains("below the 60.0 dB floor"), r.toTable());
        }
    }

    @Test
    void staticByRuleWithNothingToMeasureStillFallsBackToFp32() {
        try (Model model = TestModels.model(linearChain(2), new Shape(1, 64))) {
            List<NDList> cal = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                cal.add(new NDList(model.getNDManager().full(new Shape(4, 64), Float.NaN)));
            }
            List<String> built = new ArrayList<>();
            QuantizationReport r =
                    quantize(
                            model,
                            cal,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .build(),
                            s -> {
                                if (s.startsWith("build ")) {
                                    built.add(s);
                                }
                            });
            assertTrue(built.isEmpty(), built.toString());
            for (LayerReport l : r.getLayers()) {
                assertEquals(QuantizationMode.FP32, l.getMode(), l.getReason());
                assertTrue(l.getReason().endsWith("; left fp32"), l.getReason());
                assertTrue(Double.isNaN(l.getDynamicSqnrDb()));
            }
            assertTrue(Double.isNaN(r.getWholeModelSqnrDb()));
            assertTrue(r.getWarnings().isEmpty());
        }
    }

    @Test
    void noSamplesMeansNotMeasured() {
        try (Model model = TestModels.model(linearChain(2), new Shape(1, 64))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(4, 64));
            QuantizationReport r =
                    quantize(
                            model,
                            cal,
                            TestConfigs.builder().optWholeModelSamples(0).build(),
                            StepHooks.NONE);
            assertTrue(Double.isNaN(r.getWholeModelSqnrDb()));
            assertTrue(r.getWarnings().isEmpty());
            assertTrue(r.toTable().contains("not measured"), r.toTable());
        }
    }

    @Test
    void aFailureInTheCheckRollsTheModelBack() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            StepHooks fail =
                    s -> {
                        if (s.equals("measure")) {
                            throw new IllegalStateException("injected failure at " + s);
                        }
                    };
            assertThrows(
                    IllegalStateException.class,
                    () -> quantize(model, cal, TestConfigs.bySqnr(), fail));
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void aForcedModeBuildsAndMeasuresOnlyItsOwnBlock() {
        for (QuantizationMode mode :
                new QuantizationMode[] {
                    QuantizationMode.AUTO, QuantizationMode.STATIC, QuantizationMode.DYNAMIC
                }) {
            try (Model model = TestModels.model(linearChain(3), new Shape(1, 64))) {
                List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 64));
                List<String> built = new ArrayList<>();
                StepHooks count =
                        s -> {
                            if (s.startsWith("build ")) {
                                built.add(s);
                            }
                        };
                QuantizationReport r =
                        quantize(
                                model,
                                cal,
                                TestConfigs.builder().optDefaultMode(mode).build(),
                                count);
                assertEquals(mode == QuantizationMode.AUTO ? 6 : 3, built.size(), built.toString());
                for (LayerReport l : r.getLayers()) {
                    if (mode != QuantizationMode.AUTO) {
                        assertEquals(mode, l.getMode(), l.getReason());
                    }
                    boolean staticMeasured = !Double.isNaN(l.getStaticSqnrDb());
                    boolean dynamicMeasured = !Double.isNaN(l.getDynamicSqnrDb());
                    assertEquals(mode != QuantizationMode.DYNAMIC, staticMeasured, l.getPath());
                    assertEquals(mode != QuantizationMode.STATIC, dynamicMeasured, l.getPath());
                }
            }
        }
    }
}
