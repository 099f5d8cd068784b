package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.training.ParameterStore;
import ai.djl.translate.NoopTranslator;
import ai.djl.util.PairList;
import ai.djl.util.JsonUtils;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.nn.QuantizedConv1d;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Sqnr;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The quantizer on randomly initialised models (seeded). Bounds: the whole residual CNN's output
 * keeps at least 22 dB SQNR against fp32 (measured 25.9 dB), the two-layer transformer at least
 * 12 dB (measured 17.5 dB: attention softmax amplifies the projections' noise on random weights;
 * per layer every Linear keeps 31-39 dB).
 */
class QuantizerTest {

    @TempDir Path dir;

    @Test
    void residualCnnEveryConvAndLinearBecomesInt8() throws Exception {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal =
                    TestModels.batches(model.getNDManager(), 8, new Shape(16, 3, 16, 16));
            NDArray x = model.getNDManager().randomNormal(new Shape(16, 3, 16, 16));
            NDArray before = TestModels.run(model, x);
            Block firstConv = BlockTree.walk(model.getBlock()).find("01SequentialBlock/01Conv2d")
                    .getBlock();
            Predictor<NDList, NDList> madeBefore = model.newPredictor(new NoopTranslator());

            QuantizationReport report =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());

            int convs = 0;
            int linears = 0;
            for (BlockNode n : BlockTree.walk(model.getBlock()).getNodes()) {
                Class<?> c = n.getBlock().getClass();
                assertFalse(c == Conv2d.class || c == Linear.class || c == BatchNorm.class,
                        "float layer left at " + n.getPath());
                assertFalse(n.getBlock() instanceof ObservedBlock, n.getPath());
                convs += c == QuantizedConv2d.class ? 1 : 0;
                linears += c == QuantizedLinear.class ? 1 : 0;
            }
            assertEquals(6, convs);
            assertEquals(2, linears);
            assertEquals(8, report.count(QuantizationMode.STATIC) + report.count(QuantizationMode.DYNAMIC));
            assertEquals(0, report.count(QuantizationMode.FP32));

            NDArray after = TestModels.run(model, x);
            double sqnr = Sqnr.decibels(before, after);
            assertTrue(sqnr >= 22, "model output SQNR " + sqnr);
            // a predictor made before quantization runs the int8 model
            assertTrue(madeBefore.predict(new NDList(x)).head().contentEquals(after));

            LayerReport first = report.getLayer("01SequentialBlock/01Conv2d");
            assertEquals("01SequentialBlock/02BatchNorm", first.getFoldedBatchNorm());
            assertEquals("01SequentialBlock/03LambdaBlock", first.getFusedRelu());
            assertTrue(first.getStaticSqnrDb() > 25 && first.getDynamicSqnrDb() > 25);
            assertTrue(first.getWeightParams().startsWith("int8 symmetric per-channel x16"));
            assertEquals(128, report.getCalibrationSamples());
            // the residual's main branch: Conv, BN, Activation::relu (a lambda) fused as well
            assertNotNull(report.getLayer(
                    "02SequentialBlock/01ParallelBlock/01SequentialBlock/01Conv2d").getFusedRelu());
            assertNull(report.getLayer(
                    "02SequentialBlock/01ParallelBlock/01SequentialBlock/04Conv2d").getFusedRelu());
            assertTrue(report.getModelQuantizedBytes() <= 0.27 * report.getModelFloatBytes());

            String table = report.toTable();
            assertTrue(table.contains("05Linear"), table);
            Map<?, ?> json = JsonUtils.GSON.fromJson(report.toJson(), Map.class);
            assertEquals(8, ((List<?>) json.get("layers")).size());
            // the host line: this JVM's profile, in the table and as an added JSON object
            HostProfile host = report.getHost();
            assertEquals(HostProfile.current(), host);
            assertTrue(table.contains(host.toLine()), table);
            Map<?, ?> hostJson = (Map<?, ?>) json.get("host");
            assertEquals(host.isa(), hostJson.get("isa"));
            assertEquals(host.ratio(), ((Number) hostJson.get("ratio")).doubleValue(), 1e-12);

            // float weights the tree no longer uses are freed; the model saves
            assertFalse(firstConv.getParameters().get("weight").isInitialized());
            model.save(dir, "residual");
            assertTrue(Files.size(dir.resolve("residual-0000.params")) > 0);
        }
    }

    @Test
    void transformerEveryLinearBecomesInt8IncludingTypedFields() {
        try (Model model = TestModels.model(TestModels.transformer(), new Shape(1, 8, 32))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 8, new Shape(4, 8, 32));
            NDArray x = model.getNDManager().randomNormal(new Shape(4, 8, 32));
            NDArray before = TestModels.run(model, x);
            List<String> names = new ArrayList<>(model.getBlock().getParameters().keys());

            QuantizationReport report =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            TestConfigs.builder().optReleaseFloatWeights(false).build());

            int linears = 0;
            for (BlockNode n : BlockTree.walk(model.getBlock()).getNodes()) {
                assertFalse(n.getBlock().getClass() == Linear.class, n.getPath());
                linears += n.getBlock() instanceof QuantizedLinear ? 1 : 0;
                if (n.getBlock() instanceof ScaledDotProductAttentionBlock) {
                    ScaledDotProductAttentionBlock a = (ScaledDotProductAttentionBlock) n.getBlock();
                    assertTrue(a.getKeyProjection() instanceof QuantizedLinear);
                    assertTrue(a.getQueryProjection() instanceof QuantizedLinear);
                    assertTrue(a.getValueProjection() instanceof QuantizedLinear);
                    assertTrue(a.getResultProjection() instanceof QuantizedLinear);
                }
            }
            assertEquals(13, linears);
            assertEquals(names, new ArrayList<>(model.getBlock().getParameters().keys()));
            // axis-2 BatchNorms after a residual add stay fp32, with the reason
            LayerReport norm = report.getLayer("01TransformerEncoderBlock/02attentionNorm");
            assertEquals(QuantizationMode.FP32, norm.getMode());
            assertTrue(norm.getReason().contains("not right after a Linear"));
            double sqnr = Sqnr.decibels(before, TestModels.run(model, x));
            assertTrue(sqnr >= 12, "model output SQNR " + sqnr);
        }
    }

    @Test
    void conv1dIsFoldedFusedAndQuantized() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(
                                Conv1d.builder()
                                        .setKernelShape(new Shape(3))
                                        .optPadding(new Shape(1))
                                        .setFilters(16)
                                        .build())
                        .add(BatchNorm.builder().build())
                        .add(Activation.reluBlock())
                        .add(Blocks.batchFlattenBlock())
                        .add(Linear.builder().setUnits(4).build());
        try (Model model = TestModels.model(b, new Shape(1, 4, 12))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 4, 12));
            NDArray x = model.getNDManager().randomNormal(new Shape(8, 4, 12));
            NDArray before = TestModels.run(model, x);
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            assertTrue(model.getBlock().getChildren().get(0).getValue() instanceof QuantizedConv1d);
            LayerReport conv = r.getLayer("01Conv1d");
            assertEquals("02BatchNorm", conv.getFoldedBatchNorm());
            assertEquals("03LambdaBlock", conv.getFusedRelu());
            double sqnr = Sqnr.decibels(before, TestModels.run(model, x));
            assertTrue(sqnr > 25, "SQNR " + sqnr);
        }
    }

    @Test
    void whatCannotBeRewrittenStaysFp32WithItsReason() {
        try (Model model = TestModels.model(new Odd(), new Shape(2, 4, 10))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(4, 4, 10));
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            LayerReport typed = r.getLayer("01conv");
            assertEquals(QuantizationMode.FP32, typed.getMode());
            assertTrue(
                    typed.getReason()
                            .startsWith(
                                    "it cannot be replaced in the tree: field Odd.conv is a"
                                            + " Conv1d; a ObservedConv1d does not fit it"),
                    typed.getReason());
            LayerReport hidden = r.getLayer("#Odd.hidden");
            assertEquals(QuantizationMode.FP32, hidden.getMode());
            assertTrue(hidden.getReason().contains("not registered as a child"), hidden.getReason());
            LayerReport norm = r.getLayer("03norm");
            assertEquals(
                    "BatchNorm not folded: its parent Odd is not a plain SequentialBlock, so other"
                            + " blocks may read 02head's output",
                    norm.getReason());
            assertEquals(QuantizationMode.STATIC, r.getLayer("02head").getMode());
        }
    }

    @Test
    void aSharedLayerBecomesOneInt8BlockAtEveryPlace() {
        Linear shared = Linear.builder().setUnits(16).build();
        SequentialBlock b =
                new SequentialBlock()
                        .add(shared)
                        .add(Activation.reluBlock())
                        .add(shared)
                        .add(Linear.builder().setUnits(4).build());
        try (Model model = TestModels.model(b, new Shape(1, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 16));
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            Block first = model.getBlock().getChildren().get(0).getValue();
            assertTrue(first instanceof QuantizedLinear);
            assertTrue(first == model.getBlock().getChildren().get(2).getValue());
            assertNull(r.getLayer("01Linear").getFusedRelu(), "a shared layer is never fused");
            assertTrue(r.getNotes().get(0).contains("shared by 2 places"), r.getNotes().toString());
        }
    }

    /**
     * A custom block: a Conv1d in a field typed Conv1d (our blocks cannot subclass DJL's Conv1d),
     * a Linear it never registered, a BatchNorm, a Linear head.
     */
    static final class Odd extends AbstractBlock {
        private final Conv1d conv;
        private final Linear head;
        private final BatchNorm norm;
        private final Linear hidden = Linear.builder().setUnits(3).build();

        Odd() {
            conv =
                    addChildBlock(
                            "conv",
                            Conv1d.builder().setKernelShape(new Shape(1)).setFilters(4).build());
            head = addChildBlock("head", Linear.builder().setUnits(6).build());
            norm = addChildBlock("norm", BatchNorm.builder().optAxis(2).build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDList y = conv.forward(ps, in, training);
            return norm.forward(ps, head.forward(ps, y, training), training);
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... shapes) {
            conv.initialize(m, t, shapes);
            head.initialize(m, t, conv.getOutputShapes(shapes));
            norm.initialize(m, t, head.getOutputShapes(conv.getOutputShapes(shapes)));
            hidden.initialize(m, t, new Shape(1, 6));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return head.getOutputShapes(conv.getOutputShapes(inputShapes));
        }
    }
}
