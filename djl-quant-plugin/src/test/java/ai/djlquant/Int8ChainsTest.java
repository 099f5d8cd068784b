package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Sqnr;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * The int8 chains option ({@link QuantizationConfig.Builder#optInt8Chains}, on by default, timed
 * against the unchained model under an objective that times layers): chains form over the
 * int8 layers of a SequentialBlock (an fp32 layer breaks one, a dynamic layer can only head one; a
 * parent of another type is left alone), the report lists them, the chained model's outputs match the unchained one's
 * (SQNR >= 35 dB; identical on this host), and a formation that fails changes nothing.
 */
class Int8ChainsTest {

    private static final Shape INPUT = new Shape(1, 64);

    private static Block mlp() {
        return new SequentialBlock()
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(48).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(32).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    private static QuantizationReport quantize(Model m, QuantizationConfig.Builder b) {
        return Quantizer.quantize(
                m,
                CalibrationData.fromBatches(TestModels.batches(m.getNDManager(), 4, new Shape(8, 64))),
                b.optCalibrationSamples(32).build());
    }

    private static List<String> chainNotes(QuantizationReport r) {
        List<String> out = new ArrayList<>();
        for (String n : r.getNotes()) {
            if (n.startsWith("int8 chain (")) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void staticLayersOfASequentialBlockFormAChainThatMatchesTheUnchainedModel() {
        try (Model chained = TestModels.model(mlp(), INPUT);
                Model plain = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            chained,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optInt8Chains(true));
            quantize(
                    plain,
                    TestConfigs.builder().optDefaultMode(QuantizationMode.STATIC).optInt8Chains(false));
            assertEquals(
                    List.of(
                            "int8 chain (uint8 between its layers): 02Linear -> 04Linear ->"
                                    + " 06Linear."),
                    chainNotes(r));
            assertTrue(chained.getBlock() instanceof ChainedSequentialBlock);
            assertTrue(!(plain.getBlock() instanceof ChainedSequentialBlock));
            NDManager m = chained.getNDManager();
            for (int batch : new int[] {1, 32}) {
                NDArray x = m.randomNormal(new Shape(batch, 64));
                float[] want = TestModels.run(plain, x).toFloatArray();
                float[] got = TestModels.run(chained, x).toFloatArray();
                double db = Sqnr.decibels(want, got);
                assertTrue(db >= 35, "batch " + batch + ": " + db + " dB");
            }
        }
    }

    @Test
    void aDynamicOrFp32LayerBreaksTheChainAndTheOptionTurnsThemOff() {
        try (Model m = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            m,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optMode("04Linear", QuantizationMode.DYNAMIC)
                                    .optInt8Chains(true));
            // a dynamic layer cannot read bytes (02 -> 04 breaks) but heads a chain (04 -> 06)
            assertEquals(
                    List.of("int8 chain (uint8 between its layers): 04Linear -> 06Linear."),
                    chainNotes(r));
        }
        try (Model m = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            m,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optMode("06Linear", QuantizationMode.DYNAMIC)
                                    .optMode("04Linear", QuantizationMode.FP32)
                                    .optInt8Chains(true));
            assertEquals(List.of(), chainNotes(r));
            assertTrue(!(m.getBlock() instanceof ChainedSequentialBlock));
        }
        try (Model m = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            m,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optMode("06Linear", QuantizationMode.FP32)
                                    .optInt8Chains(true));
            assertEquals(
                    List.of("int8 chain (uint8 between its layers): 02Linear -> 04Linear."),
                    chainNotes(r));
        }
        try (Model m = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            m,
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optInt8Chains(false));
            assertEquals(List.of(), chainNotes(r));
            assertTrue(!(m.getBlock() instanceof ChainedSequentialBlock));
        }
    }

    @Test
    void chainsAreOnByDefaultAndKeptOnlyWhereTheObjectiveKeepsThemTimed() {
        try (Model m = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(m, TestConfigs.builder().optDefaultMode(QuantizationMode.STATIC));
            assertEquals(1, chainNotes(r).size(), "SIZE forms them untimed: " + r.getNotes());
        }
        try (Model m = TestModels.model(mlp(), INPUT);
                Model plain = TestModels.model(mlp(), INPUT)) {
            QuantizationReport r =
                    quantize(
                            m,
                            QuantizationConfig.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optTimeModel(false));
            quantize(
                    plain,
                    TestConfigs.builder().optDefaultMode(QuantizationMode.STATIC).optInt8Chains(false));
            List<String> timed = new ArrayList<>();
            for (String n : r.getNotes()) {
                if (n.startsWith("int8 chains kept (BALANCED)")
                        || n.startsWith("int8 chains not kept (BALANCED)")) {
                    timed.add(n);
                }
            }
            assertEquals(1, timed.size(), r.getNotes().toString());
            String note = timed.get(0);
            // timed at both serving sizes: 1 and the calibration batch size
            assertTrue(note.contains("batch 1: ") && note.contains("batch 8: "), note);
            boolean kept = note.startsWith("int8 chains kept");
            assertEquals(kept, m.getBlock() instanceof ChainedSequentialBlock, note);
            assertEquals(kept ? 1 : 0, chainNotes(r).size(), r.getNotes().toString());
            // kept or not, the same arithmetic
            NDArray x = m.getNDManager().randomNormal(new Shape(5, 64));
            double db =
                    Sqnr.decibels(
                            TestModels.run(plain, x).toFloatArray(), TestModels.run(m, x).toFloatArray());
            assertTrue(db >= 35, db + " dB");
        }
    }

    @Test
    void aChainWhoseLayerIsSwappedRunsTheBlocksItHoldsNow() {
        try (Model m = TestModels.model(mlp(), INPUT)) {
            quantize(m, TestConfigs.builder().optDefaultMode(QuantizationMode.STATIC));
            assertTrue(m.getBlock() instanceof ChainedSequentialBlock);
            // the middle link (48 -> 32) swapped for a slice, as the quantizer's trials swap layers
            Block middle = m.getBlock().getChildren().valueAt(3);
            Block slice =
                    new ai.djl.nn.LambdaBlock(
                            in -> new NDList(in.singletonOrThrow().get(":, 0:32")), "slice");
            new ai.djlquant.transform.BlockRewriter(m)
                    .apply(
                            BlockTree.walk(m.getBlock()),
                            List.of(new ai.djlquant.transform.Replacement(middle, slice)),
                            new ai.djlquant.transform.RewriteLog());
            NDArray x = m.getNDManager().randomNormal(new Shape(3, 64));
            NDList want = new NDList(x);
            ParameterStore ps = new ParameterStore(m.getNDManager(), false);
            for (Block child : m.getBlock().getChildren().values()) {
                want = child.forward(ps, want, false);
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    want.singletonOrThrow().toFloatArray(), TestModels.run(m, x).toFloatArray());
        }
    }

    @Test
    void aChainedBlockInsideAnotherChainedBlockStaysChained() {
        // the inner block has two links, so it is no link of the outer one: both hold a chain
        Block root =
                new SequentialBlock()
                        .add(linear(48))
                        .add(Activation.reluBlock())
                        .add(linear(32))
                        .add(Activation.reluBlock())
                        .add(new SequentialBlock().add(linear(24)).add(Activation.reluBlock()).add(linear(10)));
        try (Model m = TestModels.model(root, INPUT)) {
            QuantizationReport r =
                    quantize(m, TestConfigs.builder().optDefaultMode(QuantizationMode.STATIC).optInt8Chains(true));
            assertEquals(2, chainNotes(r).size(), r.getNotes().toString());
            Block outer = m.getBlock();
            assertTrue(outer instanceof ChainedSequentialBlock);
            assertTrue(
                    outer.getChildren().valueAt(4) instanceof ChainedSequentialBlock,
                    "the inner block as the model runs it: " + outer.getChildren().valueAt(4).getClass());
            assertEquals(2, ai.djlquant.transform.ChainTargets.formed(BlockTree.walk(outer)).size());
        }
    }

    /** Two blocks in turn, in a parent that is not a SequentialBlock, with an optional view. */
    static final class Pair extends AbstractBlock {
        // an unmodifiable view of the first child: the rewriter cannot put another block into it
        final List<Block> view;

        Pair(Block first, Block second, boolean viewFirst) {
            addChildBlock("first", first);
            addChildBlock("second", second);
            view = viewFirst ? List.of(first) : List.of();
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDList mid = children.valueAt(0).forward(ps, in, training, params);
            return children.valueAt(1).forward(ps, mid, training, params);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            Shape[] mid = children.valueAt(0).getOutputShapes(inputs);
            return children.valueAt(1).getOutputShapes(mid);
        }

        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            children.valueAt(0).initialize(manager, dataType, inputShapes);
            Shape[] mid = children.valueAt(0).getOutputShapes(inputShapes);
            children.valueAt(1).initialize(manager, dataType, mid);
        }
    }

    @Test
    void aFailedFormationChangesNothing() {
        // two chainable MLPs; the first, also held in an unmodifiable list, cannot be replaced;
        // the second is chained first (innermost and last first) and must be taken back
        Block root = new Pair(mlp(), new SequentialBlock().add(Blocks.batchFlattenBlock()).add(mlp()), true);
        try (Model m = TestModels.model(root, new Shape(1, 64))) {
            QuantizationReport r =
                    Quantizer.quantize(
                            m,
                            CalibrationData.fromBatches(
                                    TestModels.batches(m.getNDManager(), 4, new Shape(8, 64))),
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optCalibrationSamples(32)
                                    .build());
            assertEquals(6, r.count(QuantizationMode.STATIC), r.toTable());
            List<Block> before = blocks(m);
            NDArray x = m.getNDManager().randomNormal(new Shape(3, 64));
            float[] want = TestModels.run(m, x).toFloatArray();
            ModelEdit edit = new ModelEdit(m);
            Chaining.Result res = Chaining.form(edit);
            edit.commit();
            assertEquals(List.of(), res.chains());
            assertNotNull(res.note());
            assertTrue(res.note().contains("Pair.view"), res.note());
            assertTrue(res.note().contains("not formed"), res.note());
            List<Block> after = blocks(m);
            assertEquals(before.size(), after.size());
            for (int i = 0; i < before.size(); i++) {
                assertSame(before.get(i), after.get(i), "block " + i);
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    want, TestModels.run(m, x).toFloatArray());
        }
    }

    @Test
    void aParentOfAnotherTypeAloneFormsNoChain() {
        Block root = new Pair(linear(32), linear(16), false);
        try (Model m = TestModels.model(root, new Shape(1, 64))) {
            Quantizer.quantize(
                    m,
                    CalibrationData.fromBatches(
                            TestModels.batches(m.getNDManager(), 4, new Shape(8, 64))),
                    TestConfigs.builder()
                            .optDefaultMode(QuantizationMode.STATIC)
                            .optCalibrationSamples(32)
                            .build());
            ModelEdit edit = new ModelEdit(m);
            Chaining.Result res = Chaining.form(edit);
            edit.commit();
            assertEquals(List.of(), res.chains());
            assertNull(res.note());
        }
    }

    private static Linear linear(int units) {
        return Linear.builder().setUnits(units).build();
    }

    private static List<Block> blocks(Model m) {
        List<Block> out = new ArrayList<>();
        for (BlockNode n : BlockTree.walk(m.getBlock()).getNodes()) {
            out.add(n.getBlock());
        }
        return out;
    }
}
