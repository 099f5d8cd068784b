package ai.djlquant.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

class BlockTreeTest {

    @Test
    void pathsFollowChildKeysAndMatchParameterNames() {
        Linear a = Linear.builder().setUnits(4).build();
        Linear b = Linear.builder().setUnits(4).build();
        Linear c = Linear.builder().setUnits(3).build();
        ParallelBlock par =
                new ParallelBlock(
                        l -> new NDList(l.get(0).head().add(l.get(1).head())),
                        Arrays.asList(new SequentialBlock().add(b), Blocks.identityBlock()));
        SequentialBlock root =
                new SequentialBlock().add(a).add(Activation.reluBlock()).add(par).add(c);
        try (NDManager m = NDManager.newBaseManager()) {
            root.initialize(m, DataType.FLOAT32, new Shape(2, 4));
            BlockTree tree = BlockTree.walk(root);

            List<String> paths = new ArrayList<>();
            for (BlockNode n : tree.getNodes()) {
                paths.add(n.getPath());
            }
            // pre-order: a parent before its children, children in list order
            assertEquals(
                    Arrays.asList(
                            "",
                            "01Linear",
                            "02LambdaBlock",
                            "03ParallelBlock",
                            "03ParallelBlock/01SequentialBlock",
                            "03ParallelBlock/01SequentialBlock/01Linear",
                            "03ParallelBlock/02LambdaBlock",
                            "04Linear"),
                    paths);
            assertSame(b, tree.find("03ParallelBlock/01SequentialBlock/01Linear").getBlock());
            assertEquals("(root)", tree.getRoot().displayPath());
            assertEquals(2, tree.find("03ParallelBlock").getIndex());
            assertEquals("03ParallelBlock", tree.find("03ParallelBlock").getKey());
            // a layer's DJL parameter names are its path with '_' plus the parameter name
            Set<String> names = root.getParameters().toMap().keySet();
            for (BlockNode n : tree.getNodes()) {
                if (n.getBlock() instanceof Linear) {
                    assertTrue(names.contains(n.getPath().replace('/', '_') + "_weight"), n.getPath());
                }
            }
            assertTrue(tree.getUnregisteredChildren().isEmpty());
        }
    }

    @Test
    void sharedBlocksHaveOneNodePerPlace() {
        Linear shared = Linear.builder().setUnits(4).build();
        SequentialBlock root = new SequentialBlock().add(shared).add(shared);
        BlockTree tree = BlockTree.walk(root);
        assertEquals(2, tree.occurrencesOf(shared).size());
        assertEquals("01Linear", tree.occurrencesOf(shared).get(0).getPath());
        assertEquals("02Linear", tree.occurrencesOf(shared).get(1).getPath());
        assertTrue(tree.occurrencesOf(Linear.builder().setUnits(1).build()).isEmpty());
        assertNull(tree.find("03Linear"));
    }

    @Test
    void findsBlocksKeptInFieldsButNotRegistered() {
        Holder h = new Holder();
        BlockTree tree = BlockTree.walk(new SequentialBlock().add(h));
        assertEquals(1, tree.getUnregisteredChildren().size());
        BlockTree.UnregisteredChild u = tree.getUnregisteredChildren().get(0);
        assertSame(h.hidden, u.getBlock());
        assertEquals("Holder.hidden", u.getField());
        assertEquals("01Holder/#Holder.hidden", u.displayPath());
        // the registered child held in a field too is reachable, so it is not reported
        assertEquals("01Holder/01visible", tree.occurrencesOf(h.visible).get(0).getPath());
    }

    @Test
    void refusesCycles() {
        SequentialBlock a = new SequentialBlock();
        SequentialBlock b = new SequentialBlock().add(a);
        a.add(b);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BlockTree.walk(a));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    }

    /** A custom block with a registered child and a Linear it forgot to register. */
    static final class Holder extends AbstractBlock {
        final Linear visible;
        final Linear hidden = Linear.builder().setUnits(2).build();

        Holder() {
            visible = addChildBlock("visible", Linear.builder().setUnits(2).build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
            return hidden.forward(ps, visible.forward(ps, inputs, training), training);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }
}
