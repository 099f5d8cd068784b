package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** A quantization that fails, at any step or on bad input, leaves the model as it was. */
class QuantizerFailureTest {

    /** Fails when a step is reached. */
    private static StepHooks failAt(String step) {
        return s -> {
            if (s.equals(step)) {
                throw new IllegalStateException("injected failure at " + s);
            }
        };
    }

    /** Fails at the n-th replacement of convert. */
    private static StepHooks failAtReplacement(int n) {
        int[] seen = {0};
        return s -> {
            if (s.startsWith("convert ") && ++seen[0] == n) {
                throw new IllegalStateException("injected failure at " + s);
            }
        };
    }

    @Test
    void failureInConvertLeavesTheResidualModelAsItWas() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            IllegalStateException e =
                    assertThrows(
                            IllegalStateException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.bySqnr(),
                                            failAtReplacement(5)));
            assertTrue(e.getMessage().startsWith("injected failure at convert "), e.getMessage());
            before.assertUnchanged(model, x);
            // and the model quantizes cleanly afterwards
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            assertEquals(8, r.getLayers().size());
        }
    }

    @Test
    void failureInConvertLeavesTheTransformerAndItsTypedFieldsAsTheyWere() {
        try (Model model = TestModels.model(TestModels.transformer(), new Shape(1, 8, 32))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(4, 8, 32));
            NDArray x = model.getNDManager().randomNormal(new Shape(2, 8, 32));
            ModelSnapshot before = ModelSnapshot.of(model, x, QuantizerFailureTest::projections);
            assertEquals(8, projections(model).size());
            assertThrows(
                    IllegalStateException.class,
                    () ->
                            Quantizer.quantize(
                                    model,
                                    CalibrationData.fromBatches(cal),
                                    TestConfigs.bySqnr(),
                                    failAtReplacement(7)));
            before.assertUnchanged(model, x);
        }
    }

    /** The Linears the attention blocks reach through their private typed fields. */
    private static List<Object> projections(Model model) {
        List<Object> out = new ArrayList<>();
        for (BlockNode n : BlockTree.walk(model.getBlock()).getNodes()) {
            if (n.getBlock() instanceof ScaledDotProductAttentionBlock) {
                ScaledDotProductAttentionBlock a = (ScaledDotProductAttentionBlock) n.getBlock();
                out.add(a.getKeyProjection());
                out.add(a.getQueryProjection());
                out.add(a.getValueProjection());
                out.add(a.getResultProjection());
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"prepare", "calibrate", "decide"})
    void failureAtAnyStepLeavesTheModelAsItWas(String step) {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            assertThrows(
                    IllegalStateException.class,
                    () ->
                            Quantizer.quantize(
                                    model,
                                    CalibrationData.fromBatches(cal),
                                    TestConfigs.bySqnr(),
                                    failAt(step)));
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void replacedRootIsPutBack() {
        try (Model model = TestModels.model(Linear.builder().setUnits(3).build(), new Shape(1, 5))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(4, 5));
            NDArray x = model.getNDManager().randomNormal(new Shape(2, 5));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            assertThrows(
                    IllegalStateException.class,
                    () ->
                            Quantizer.quantize(
                                    model,
                                    CalibrationData.fromBatches(cal),
                                    TestConfigs.bySqnr(),
                                    failAtReplacement(1)));
            before.assertUnchanged(model, x);
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            assertTrue(model.getBlock() instanceof ai.djlquant.nn.QuantizedLinear);
            assertTrue(r.getNotes().get(r.getNotes().size() - 1).contains("root block itself"));
        }
    }

    @Test
    void emptySourceOrTooFewSamplesFailBeforeAnythingChanges() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            IllegalArgumentException empty =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(Collections.emptyList()),
                                            TestConfigs.bySqnr()));
            assertEquals(
                    "the calibration source (0 NDList batches) holds no samples.",
                    empty.getMessage());

            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 3, 16, 16));
            IllegalArgumentException few =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.builder()
                                                    .optCalibrationSamples(100)
                                                    .build()));
            assertEquals(
                    "calibrationSamples is 100 but the calibration source (2 NDList batches)"
                            + " holds only 16.",
                    few.getMessage());
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void aSourceThatCannotBeReadTwiceIsRefusedAndChangesNothing() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 3, 16, 16));
            Iterator<NDList> once = cal.iterator();
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(() -> once),
                                            TestConfigs.bySqnr()));
            assertTrue(e.getMessage().contains("gave 0 samples on its second reading but 16"),
                    e.getMessage());
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void aBatchTheModelRejectsNamesTheLayerAndTheShape() {
        SequentialBlock mlp =
                new SequentialBlock()
                        .add(Blocks.batchFlattenBlock())
                        .add(Linear.builder().setUnits(16).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(4).build());
        try (Model model = TestModels.model(mlp, new Shape(1, 2, 5))) {
            NDArray x = model.getNDManager().randomNormal(new Shape(3, 2, 5));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            List<NDList> wrong = TestModels.batches(model.getNDManager(), 2, new Shape(4, 3, 5));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(wrong),
                                            TestConfigs.bySqnr()));
            assertTrue(
                    e.getMessage()
                            .startsWith(
                                    "calibration batch 0 of shape [(4, 3, 5)] failed in layer"
                                            + " 02Linear (Linear, initialised for input [(1, 10)])"
                                            + " on input of shape [(4, 15)]"),
                    e.getMessage());
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void uninitialisedModelIsRefusedNamingTheLayer() {
        try (Model model = Model.newInstance("raw")) {
            model.setBlock(
                    new SequentialBlock()
                            .add(Linear.builder().setUnits(4).build())
                            .add(Linear.builder().setUnits(2).build()));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(
                                                    TestModels.batches(
                                                            model.getNDManager(),
                                                            1,
                                                            new Shape(2, 3))),
                                            TestConfigs.bySqnr()));
            assertTrue(
                    e.getMessage()
                            .startsWith(
                                    "the model is not initialised: layer 01Linear (Linear) has no"
                                            + " value for parameter 'weight'."),
                    e.getMessage());
        }
    }

    @Test
    void quantizingTwiceIsRefused() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 3, 16, 16));
            Quantizer.quantize(model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 3, 16, 16));
            ModelSnapshot before = ModelSnapshot.of(model, x);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.bySqnr()));
            assertEquals(
                    "the model is already quantized: layer 01SequentialBlock/01Conv2d is a"
                            + " QuantizedConv2d. Quantize the float model instead.",
                    e.getMessage());
            before.assertUnchanged(model, x);
        }
    }

    @Test
    void torchScriptIsRefusedWithWhatToDoInstead() throws Exception {
        Path dir = Paths.get(getClass().getResource("/torchscript/tiny.pt").toURI()).getParent();
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(dir)
                        .optModelName("tiny")
                        .optEngine("PyTorch")
                        .build();
        try (ZooModel<NDList, NDList> model = criteria.loadModel()) {
            Object root = model.getBlock();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(
                                                    Collections.singletonList(
                                                            new NDList(
                                                                    model.getNDManager()
                                                                            .ones(new Shape(2, 4))))),
                                            TestConfigs.bySqnr()));
            assertTrue(e.getMessage().contains("is a PtSymbolBlock (a TorchScript"), e.getMessage());
            assertTrue(e.getMessage().contains("TorchScriptImporter.builder(pt)"), e.getMessage());
            assertTrue(e.getMessage().contains("rebuild the architecture from DJL blocks"));
            assertSame(root, model.getBlock());
        }
    }
}
