package ai.djlquant.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.Set;

class ReluFusionTest {

    private static final Shape SHAPE = new Shape(2, 16);

    @Test
    void recognisesReluByItsFunctionOrItsEffect() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(ReluFusion.isRelu(Activation.reluBlock(), SHAPE, m), "DJL's reluBlock");
            // SequentialBlock.add(Activation::relu), as DJL's ResNetV1 does: another lambda
            assertTrue(ReluFusion.isRelu(new LambdaBlock(Activation::relu), SHAPE, m));
            assertTrue(ReluFusion.isRelu(
                    LambdaBlock.singleton(x -> x.maximum(0f), "mine"), SHAPE, m));

            // a name proves nothing; the effect does
            assertFalse(ReluFusion.isRelu(new LambdaBlock(Activation::relu6, "ReLU"), SHAPE, m));
            assertFalse(ReluFusion.isRelu(Activation.leakyReluBlock(0.01f), SHAPE, m));
            assertFalse(ReluFusion.isRelu(Activation.geluBlock(), SHAPE, m));
            assertFalse(ReluFusion.isRelu(Blocks.identityBlock(), SHAPE, m));
            assertFalse(ReluFusion.isRelu(
                    LambdaBlock.singleton(x -> x.clip(0f, 100f), "clip"), SHAPE, m));
            assertFalse(ReluFusion.isRelu(
                    new LambdaBlock(l -> new NDList(l.head().maximum(0f), l.head())), SHAPE, m));
            assertFalse(ReluFusion.isRelu(Linear.builder().setUnits(16).build(), SHAPE, m));
        }
    }

    @Test
    void theTableTellsReluFromRelu6ByFunctionOrEffect() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(FusedActivation.RELU6, ReluFusion.activationOf(Activation.relu6Block(), SHAPE, m));
            assertEquals(FusedActivation.RELU, ReluFusion.activationOf(Activation.reluBlock(), SHAPE, m));
            // SequentialBlock.add(Activation::relu6): another lambda, recognised by its effect
            assertEquals(
                    FusedActivation.RELU6,
                    ReluFusion.activationOf(new LambdaBlock(Activation::relu6, "ReLU"), SHAPE, m));
            assertEquals(
                    FusedActivation.RELU6,
                    ReluFusion.activationOf(LambdaBlock.singleton(x -> x.clip(0f, 6f), "c"), SHAPE, m));
            // other clamps are neither: the probe's values above 100 saturate at the clamp's own bound
            for (float hi : new float[] {5f, 6.5f, 100f}) {
                assertEquals(
                        FusedActivation.NONE,
                        ReluFusion.activationOf(LambdaBlock.singleton(x -> x.clip(0f, hi), "c"), SHAPE, m),
                        "clip(0, " + hi + ")");
            }
            assertEquals(
                    FusedActivation.NONE,
                    ReluFusion.activationOf(LambdaBlock.singleton(x -> x.clip(-1f, 6f), "c"), SHAPE, m));
            assertEquals(FusedActivation.NONE, ReluFusion.activationOf(Activation.geluBlock(), SHAPE, m));
            assertEquals(FusedActivation.NONE, ReluFusion.activationOf(Blocks.identityBlock(), SHAPE, m));
            assertEquals(
                    FusedActivation.NONE,
                    ReluFusion.activationOf(Linear.builder().setUnits(16).build(), SHAPE, m));
        }
    }

    @Test
    void theReluMustBeTheSoleNextReader() {
        Linear a = Linear.builder().setUnits(16).build();
        Block relu = Activation.reluBlock();
        Block pass = Blocks.identityBlock();
        SequentialBlock s = new SequentialBlock().add(a).add(pass).add(relu);
        assertSame(relu, reader(s, a, Collections.singleton(pass)));
        assertSame(pass, reader(s, a, Collections.emptySet()));

        // out of the end of a nested SequentialBlock
        Linear b = Linear.builder().setUnits(16).build();
        Block relu2 = Activation.reluBlock();
        SequentialBlock nested =
                new SequentialBlock().add(new SequentialBlock().add(b)).add(relu2);
        assertSame(relu2, reader(nested, b, Collections.emptySet()));

        // intermediate outputs are returned: another reader sees the pre-activation
        Linear c = Linear.builder().setUnits(16).build();
        SequentialBlock inter =
                new SequentialBlock().add(c).add(Activation.reluBlock()).setReturnIntermediate(true);
        assertNull(reader(inter, c, Collections.emptySet()));

        // a layer in a ParallelBlock: the join function reads its output
        Linear d = Linear.builder().setUnits(16).build();
        ParallelBlock par =
                new ParallelBlock(
                        l -> l.get(0), Arrays.asList(new SequentialBlock().add(d), Blocks.identityBlock()));
        SequentialBlock p = new SequentialBlock().add(par).add(Activation.reluBlock());
        assertNull(reader(p, d, Collections.emptySet()));

        // the layer's output is the model's output
        Linear e = Linear.builder().setUnits(16).build();
        assertNull(reader(new SequentialBlock().add(e), e, Collections.emptySet()));

        // a shared ReLU reads other outputs too
        Linear f = Linear.builder().setUnits(16).build();
        Block shared = Activation.reluBlock();
        SequentialBlock twice = new SequentialBlock().add(f).add(shared).add(shared);
        assertNull(reader(twice, f, Collections.emptySet()));
    }

    private static Block reader(SequentialBlock root, Block layer, Set<Block> passThrough) {
        BlockTree tree = BlockTree.walk(root);
        BlockNode r = ReluFusion.soleReader(tree, tree.occurrencesOf(layer).get(0), passThrough);
        return r == null ? null : r.getBlock();
    }
}
