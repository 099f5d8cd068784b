package ai.djlquant.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import ai.djl.nn.transformer.BertBlock;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.nn.transformer.TransformerEncoderBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

class BlockRewriterTest {

    @TempDir Path dir;

    @Test
    void replacesInTheChildrenListAndInEveryFieldThatHoldsTheBlock() {
        try (Model model = Model.newInstance("typed")) {
            Typed t = new Typed();
            model.setBlock(t);
            t.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(3, 4));
            List<String> names = parameterNames(t);
            NDArray x = model.getNDManager().randomNormal(new Shape(3, 4));
            NDArray before = run(t, model, x);

            Block direct = QuantizedLinear.builder().setFloatBlock(t.direct).optDynamic().build();
            Block first = QuantizedLinear.builder().setFloatBlock(t.list.get(0)).optDynamic().build();
            Linear oldDirect = t.direct;
            Linear oldFirst = t.list.get(0);
            RewriteLog log = new RewriteLog();
            new BlockRewriter(model)
                    .apply(
                            BlockTree.walk(t),
                            Arrays.asList(
                                    new Replacement(oldDirect, direct),
                                    new Replacement(oldFirst, first)),
                            log);

            assertSame(direct, t.direct);
            assertSame(direct, t.byName.get("direct"));
            assertSame(direct, t.getChildren().get("01direct"));
            assertSame(first, t.list.get(0));
            assertSame(first, t.array[0]);
            assertSame(first, t.getChildren().get("02first"));
            assertEquals(names, parameterNames(t), "parameter names stay the same");
            assertTrue(Sqnr.decibels(before, run(t, model, x)) > 25, "int8 blocks now run");

            log.rollback();
            assertSame(oldDirect, t.direct);
            assertSame(oldDirect, t.byName.get("direct"));
            assertSame(oldDirect, t.getChildren().get("01direct"));
            assertSame(oldFirst, t.list.get(0));
            assertSame(oldFirst, t.array[0]);
            assertSame(oldFirst, t.getChildren().get("02first"));
            assertTrue(before.contentEquals(run(t, model, x)));
        }
    }

    @Test
    void checksEveryReferenceBeforeChangingAnything() {
        try (NDManager m = NDManager.newBaseManager()) {
            Typed t = new Typed();
            t.initialize(m, DataType.FLOAT32, new Shape(3, 4));
            Linear second = t.list.get(1);
            Block fits = QuantizedLinear.builder().setFloatBlock(second).optDynamic().build();
            Block notALinear = Blocks.identityBlock(); // fits the children list, not the field

            BlockRewriter rewriter = new BlockRewriter(null);
            List<Replacement> both =
                    Arrays.asList(new Replacement(second, fits), new Replacement(t.direct, notALinear));
            Map<Block, String> problems = rewriter.check(BlockTree.walk(t), both);
            assertEquals(1, problems.size());
            assertTrue(problems.get(t.direct).contains("field Typed.direct is a Linear"),
                    problems.get(t.direct));

            Linear oldDirect = t.direct;
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> rewriter.apply(BlockTree.walk(t), both, new RewriteLog()));
            assertTrue(e.getMessage().contains("01direct"), e.getMessage());
            // neither replacement happened, though the first one alone was possible
            assertSame(second, t.list.get(1));
            assertSame(second, t.getChildren().get("03second"));
            assertSame(oldDirect, t.direct);
            assertSame(oldDirect, t.getChildren().get("01direct"));
        }
    }

    @Test
    void refusesContainersItCannotWrite() {
        try (NDManager m = NDManager.newBaseManager()) {
            Odd o = new Odd();
            o.initialize(m, DataType.FLOAT32, new Shape(3, 4));
            Block q = QuantizedLinear.builder().setFloatBlock(o.a).optDynamic().build();
            String p = new BlockRewriter(null)
                    .check(BlockTree.walk(o), Collections.singletonList(new Replacement(o.a, q)))
                    .get(o.a);
            assertTrue(p.contains("Odd.inSet holds the block in a HashSet"), p);
            assertTrue(p.contains("Odd.fixed[0] is in a list that cannot be changed"), p);
        }
    }

    @Test
    void replacesTheRootThroughTheModel() {
        try (Model model = Model.newInstance("root")) {
            Linear l = Linear.builder().setUnits(2).build();
            model.setBlock(l);
            l.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3));
            Block q = QuantizedLinear.builder().setFloatBlock(l).optDynamic().build();
            List<Replacement> r = Collections.singletonList(new Replacement(l, q));
            assertTrue(new BlockRewriter(null).check(BlockTree.walk(l), r).get(l)
                    .contains("root"));
            RewriteLog log = new RewriteLog();
            new BlockRewriter(model).apply(BlockTree.walk(l), r, log);
            assertSame(q, model.getBlock());
            log.rollback();
            assertSame(l, model.getBlock());
        }
    }

    @Test
    void givesParameterlessReplacementsTheInputShapesOfWhatTheyReplace() {
        try (NDManager m = NDManager.newBaseManager()) {
            SequentialBlock s =
                    new SequentialBlock()
                            .add(Linear.builder().setUnits(5).build())
                            .add(Activation.reluBlock());
            s.initialize(m, DataType.FLOAT32, new Shape(2, 3));
            Block relu = s.getChildren().get(1).getValue();
            Block identity = Blocks.identityBlock();
            assertFalse(identity.isInitialized());
            new BlockRewriter(null)
                    .apply(BlockTree.walk(s),
                            Collections.singletonList(new Replacement(relu, identity)),
                            new RewriteLog());
            assertTrue(identity.isInitialized());
            assertEquals(new Shape(2, 5), identity.getInputShapes()[0]);
        }
    }

    @Test
    void transformerEncoderEveryLinearReplacedFieldsUpdatedAndSaved() throws Exception {
        try (Model model = Model.newInstance("encoder")) {
            TransformerEncoderBlock enc =
                    new TransformerEncoderBlock(32, 4, 64, 0f, Activation::gelu);
            model.setBlock(enc);
            enc.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(2, 8, 32));
            List<String> names = parameterNames(enc);
            NDArray x = model.getNDManager().randomNormal(new Shape(2, 8, 32));
            NDArray before = run(enc, model, x);

            Map<Block, Block> replaced = replaceEveryLinear(model, enc);
            assertEquals(6, replaced.size()); // 4 projections, 2 feed-forward layers
            ScaledDotProductAttentionBlock att =
                    (ScaledDotProductAttentionBlock) enc.getChildren().get("01selfAttention");
            for (Linear l :
                    Arrays.asList(
                            att.getKeyProjection(),
                            att.getQueryProjection(),
                            att.getValueProjection(),
                            att.getResultProjection())) {
                assertTrue(l instanceof QuantizedLinear, "typed field updated: " + l);
                assertTrue(replaced.containsValue(l));
            }
            for (BlockNode n : BlockTree.walk(enc).getNodes()) {
                assertFalse(n.getBlock().getClass() == Linear.class, n.getPath());
            }
            assertEquals(names, parameterNames(enc));
            assertTrue(Sqnr.decibels(before, run(enc, model, x)) > 20);
            model.save(dir, "encoder");
            assertTrue(Files.size(dir.resolve("encoder-0000.params")) > 0);
        }
    }

    @Test
    void bertBlockEveryLinearReplacedAndItsEncoderListUpdated() throws Exception {
        try (Model model = Model.newInstance("bert")) {
            BertBlock bert =
                    BertBlock.builder()
                            .setTokenDictionarySize(50)
                            .optEmbeddingSize(32)
                            .optTransformerBlockCount(2)
                            .optAttentionHeadCount(4)
                            .optHiddenSize(64)
                            .optMaxSequenceLength(8)
                            .build();
            model.setBlock(bert);
            Shape s = new Shape(2, 8);
            bert.initialize(model.getNDManager(), DataType.FLOAT32, s, s, s);
            List<String> names = parameterNames(bert);
            NDManager m = model.getNDManager();
            NDList in =
                    new NDList(
                            m.randomInteger(0, 50, s, DataType.INT64),
                            m.zeros(s, DataType.INT64),
                            m.ones(s, DataType.INT64));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray before = bert.forward(ps, in, false).get(0);

            Map<Block, Block> replaced = replaceEveryLinear(model, bert);
            assertEquals(2 * 6 + 1, replaced.size());
            Object pooling = field(bert, "pooling");
            assertTrue(pooling instanceof QuantizedLinear, "private field pooling updated");
            assertEquals(names, parameterNames(bert));
            assertTrue(Sqnr.decibels(before, bert.forward(ps, in, false).get(0)) > 15);
            model.save(dir, "bert");
            assertTrue(Files.size(dir.resolve("bert-0000.params")) > 0);

            // the encoders live in a List<TransformerEncoderBlock> as well as in the children
            List<?> encoders = (List<?>) field(bert, "transformerEncoderBlocks");
            Block oldEncoder = (Block) encoders.get(0);
            TransformerEncoderBlock fresh =
                    new TransformerEncoderBlock(32, 4, 64, 0f, Activation::gelu);
            fresh.initialize(m, DataType.FLOAT32, new Shape(2, 8, 32));
            BlockRewriter rewriter = new BlockRewriter(model);
            Map<Block, String> wrongType =
                    rewriter.check(
                            BlockTree.walk(bert),
                            Collections.singletonList(
                                    new Replacement(oldEncoder, new SequentialBlock())));
            assertTrue(wrongType.get(oldEncoder).contains("holds TransformerEncoderBlocks"),
                    wrongType.get(oldEncoder));
            rewriter.apply(
                    BlockTree.walk(bert),
                    Collections.singletonList(new Replacement(oldEncoder, fresh)),
                    new RewriteLog());
            assertSame(fresh, encoders.get(0));
            assertSame(fresh, bert.getChildren().get("05transformer_0"));
        }
    }

    /** Replaces every float Linear of a tree by a dynamic QuantizedLinear. */
    private static Map<Block, Block> replaceEveryLinear(Model model, Block root) {
        BlockTree tree = BlockTree.walk(root);
        Map<Block, Block> replaced = new HashMap<>();
        List<Replacement> list = new ArrayList<>();
        for (BlockNode n : tree.getNodes()) {
            if (n.getBlock().getClass() == Linear.class && !replaced.containsKey(n.getBlock())) {
                Block q =
                        QuantizedLinear.builder()
                                .setFloatBlock((Linear) n.getBlock())
                                .optDynamic()
                                .build();
                replaced.put(n.getBlock(), q);
                list.add(new Replacement(n.getBlock(), q));
            }
        }
        new BlockRewriter(model).apply(tree, list, new RewriteLog());
        return replaced;
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field f = owner.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }

    private static List<String> parameterNames(Block b) {
        return new ArrayList<>(b.getParameters().keys());
    }

    private static NDArray run(Block b, Model model, NDArray x) {
        return b.forward(new ParameterStore(model.getNDManager(), false), new NDList(x), false)
                .singletonOrThrow();
    }

    /** A custom block that reaches its children through typed fields, a list, an array, a map. */
    static final class Typed extends AbstractBlock {
        private final Linear direct;
        private final List<Linear> list = new ArrayList<>();
        private final Block[] array = new Block[1];
        private final Map<String, Linear> byName = new HashMap<>();

        Typed() {
            direct = addChildBlock("direct", Linear.builder().setUnits(4).build());
            list.add(addChildBlock("first", Linear.builder().setUnits(4).build()));
            list.add(addChildBlock("second", Linear.builder().setUnits(4).build()));
            array[0] = list.get(0);
            byName.put("direct", direct);
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDList x = byName.get("direct").forward(ps, in, training);
            x = array[0].forward(ps, x, training);
            return list.get(1).forward(ps, x, training);
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... shapes) {
            for (Block b : getChildren().values()) {
                b.initialize(m, t, shapes);
            }
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }

    /** Holds a child in a set and an unmodifiable list. */
    static final class Odd extends AbstractBlock {
        private final Linear a;
        private final Set<Block> inSet = new HashSet<>();
        private final List<Block> fixed;

        Odd() {
            a = addChildBlock("a", Linear.builder().setUnits(4).build());
            inSet.add(a);
            fixed = List.of(a);
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            return fixed.get(0).forward(ps, in, training);
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... shapes) {
            a.initialize(m, t, shapes);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }
}
