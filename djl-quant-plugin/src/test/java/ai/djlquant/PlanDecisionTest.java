package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Granularity;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** AUTO decisions on layers built to need each mode, and user overrides over them. */
class PlanDecisionTest {

    private static final String FIRST = "01Linear";
    private static final String SECOND = "02Linear";

    /** Two Linear layers, 64 -> 64 -> 16. */
    private static Model twoLinears() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(64).build())
                        .add(Linear.builder().setUnits(16).build());
        return TestModels.model(b, new Shape(1, 64));
    }

    /**
     * Batches whose scale is heavy-tailed across batches: most N(0, 1), every eighth N(0, 100^2).
     * One fixed grid must cover the large batches and loses the small ones; a per-call grid does
     * not.
     */
    private static List<NDList> heavyTailed(NDManager m) {
        m.getEngine().setRandomSeed(3);
        List<NDList> out = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            out.add(new NDList(m.randomNormal(new Shape(8, 64)).mul(i % 8 == 0 ? 100f : 1f)));
        }
        return out;
    }

    @Test
    void heavyTailedInputGoesDynamic() {
        try (Model model = twoLinears()) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(heavyTailed(model.getNDManager())),
                            TestConfigs.bySqnr());
            LayerReport first = r.getLayer(FIRST);
            assertEquals(QuantizationMode.DYNAMIC, first.getMode(), first.toString());
            assertTrue(
                    first.getDynamicSqnrDb() > first.getStaticSqnrDb() + 3,
                    first.getStaticSqnrDb() + " vs " + first.getDynamicSqnrDb());
            assertTrue(first.getReason().startsWith("AUTO: static"));
            assertTrue(((QuantizedLinear) child(model, 0)).isDynamic());
        }
    }

    @Test
    void wellBehavedInputGoesStatic() {
        try (Model model = twoLinears()) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(
                                    TestModels.batches(model.getNDManager(), 16, new Shape(8, 64))),
                            TestConfigs.bySqnr());
            assertEquals(QuantizationMode.STATIC, r.getLayer(FIRST).getMode());
            assertEquals(QuantizationMode.STATIC, r.getLayer(SECOND).getMode());
            assertTrue(r.getLayer(FIRST).getActivationParams().startsWith("uint"));
        }
    }

    /**
     * A layer int8 cannot represent: every output unit has one weight of 1000 on an input that is
     * always 0, so the per-channel grid (step 1000/127) rounds every other weight to 0 and the
     * int8 output loses all the signal.
     */
    private static Model hopeless(List<NDList> batches) {
        Model model = twoLinears();
        NDArray w = child(model, 0).getParameters().get("weight").getArray();
        w.set(new NDIndex(":, 0"), 1000f);
        NDManager m = model.getNDManager();
        m.getEngine().setRandomSeed(4);
        for (int i = 0; i < 8; i++) {
            NDArray x = m.randomNormal(new Shape(8, 64));
            x.set(new NDIndex(":, 0"), 0f);
            batches.add(new NDList(x));
        }
        return model;
    }

    @Test
    void hopelessLayerStaysFp32() {
        List<NDList> batches = new ArrayList<>();
        try (Model model = hopeless(batches)) {
            Block original = child(model, 0);
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(batches), TestConfigs.bySqnr());
            LayerReport first = r.getLayer(FIRST);
            assertEquals(QuantizationMode.FP32, first.getMode(), first.toString());
            assertTrue(first.getStaticSqnrDb() < 20 && first.getDynamicSqnrDb() < 20);
            assertTrue(first.getReason().contains("below the 20.0 dB floor"), first.getReason());
            assertSame(original, child(model, 0), "the float layer stays");
            assertEquals(QuantizationMode.STATIC, r.getLayer(SECOND).getMode());
        }
    }

    @Test
    void pathOverrideWinsOverTheMeasurement() {
        List<NDList> batches = new ArrayList<>();
        try (Model model = hopeless(batches)) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(batches),
                            TestConfigs.builder()
                                    .optMode(Linear.class, QuantizationMode.DYNAMIC)
                                    .optMode("01*", QuantizationMode.STATIC)
                                    .build());
            assertEquals(QuantizationMode.STATIC, r.getLayer(FIRST).getMode());
            assertEquals("STATIC by path pattern '01*'", r.getLayer(FIRST).getReason());
            assertEquals(QuantizationMode.DYNAMIC, r.getLayer(SECOND).getMode());
            assertEquals("DYNAMIC by layer type Linear", r.getLayer(SECOND).getReason());
            assertTrue(child(model, 0) instanceof QuantizedLinear);
        }
    }

    @Test
    void excludedLayersAreLeftExactlyAsTheyAre() {
        try (Model model = twoLinears()) {
            Block second = child(model, 1);
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(
                                    TestModels.batches(model.getNDManager(), 4, new Shape(8, 64))),
                            TestConfigs.builder()
                                    .optExclude("**2Linear")
                                    .optDefaultMode(QuantizationMode.DYNAMIC)
                                    .build());
            assertSame(second, child(model, 1));
            assertEquals(QuantizationMode.FP32, r.getLayer(SECOND).getMode());
            assertEquals("excluded by path pattern '**2Linear'", r.getLayer(SECOND).getReason());
            assertEquals(QuantizationMode.DYNAMIC, r.getLayer(FIRST).getMode());
            assertEquals("DYNAMIC by the default mode", r.getLayer(FIRST).getReason());
        }
    }

    @Test
    void fp32ByRuleKeepsTheFloatLayer() {
        try (Model model = twoLinears()) {
            Block first = child(model, 0);
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(
                                    TestModels.batches(model.getNDManager(), 4, new Shape(8, 64))),
                            TestConfigs.builder()
                                    .optMode(FIRST, QuantizationMode.FP32)
                                    .build());
            assertSame(first, child(model, 0));
            assertEquals("FP32 by path pattern '01Linear'", r.getLayer(FIRST).getReason());
            assertEquals(1, r.count(QuantizationMode.FP32));
        }
    }

    @Test
    void perTensorWeightsOnRequest() {
        try (Model model = twoLinears()) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(
                                    TestModels.batches(model.getNDManager(), 4, new Shape(8, 64))),
                            TestConfigs.builder()
                                    .optWeightGranularity(Granularity.PER_TENSOR)
                                    .build());
            assertTrue(r.getLayer(FIRST).getWeightParams().startsWith("int8 symmetric per-tensor"));
            float[] s = ((QuantizedLinear) child(model, 0)).getWeightParams().getScales();
            for (float v : s) {
                assertEquals(s[0], v);
            }
        }
    }

    private static Block child(Model model, int i) {
        return model.getBlock().getChildren().get(i).getValue();
    }
}
