package ai.djlquant.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.training.ParameterStore;
import ai.djlquant.quant.FusedActivation;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Finds a ReLU or ReLU6 that reads a layer's output and nothing else, so the int8 block can apply
 * it ({@link FusedActivation}) and the activation block can be dropped.
 *
 * <p>The one recognition table ({@link #TABLE}): RELU is DJL's {@link Activation#reluBlock()}, a
 * {@link LambdaBlock} around {@code Activation::relu}, exactly {@code max(x, 0)}; RELU6 is {@link
 * Activation#relu6Block()}, around {@code Activation::relu6}, exactly {@code min(max(x, 0), 6)}
 * (the TorchScript importer maps {@code torch.hardtanh(x, 0., 6.)}, PyTorch's ReLU6, to that very
 * block). {@code SequentialBlock.add(Activation::relu)} (DJL's ResNetV1 does this) is a
 * LambdaBlock around another lambda with the same effect, and a LambdaBlock's name says nothing
 * certain. So a LambdaBlock counts as an entry if it holds the very function of the entry's block,
 * or if it returns exactly the entry's function for a probe of the layer's output shape whose values
 * span 10^-4 to 10^4 in both signs and zeros (values above 6 tell ReLU from ReLU6; the probe also
 * tells both from leaky ReLU, GELU or another clip).
 *
 * <p>Safety: the ReLU must be the next block to run on the layer's output and its only reader:
 * the next child of a plain SequentialBlock (DJL's own forward, no intermediate outputs), looking
 * through blocks that
 * pass their input on unchanged (a folded BatchNorm's place) and out of the end of nested
 * plain SequentialBlocks. Shared blocks are never fused.
 */
public final class ReluFusion {

    private static final Field LAMBDA = lambdaField();

    /**
     * One recognisable activation: the DJL block whose function is matched by identity, and the
     * function the probe compares with.
     */
    private record Entry(FusedActivation activation, Object function, UnaryOperator<NDArray> effect) {}

    /** The recognition table: ReLU, then ReLU6 (a probe matches at most one of them). */
    private static final List<Entry> TABLE =
            List.of(
                    new Entry(FusedActivation.RELU, functionOf(Activation.reluBlock()), Activation::relu),
                    new Entry(
                            FusedActivation.RELU6,
                            functionOf(Activation.relu6Block()),
                            Activation::relu6));

    private ReluFusion() {}

    private static Field lambdaField() {
        try {
            Field f = LambdaBlock.class.getDeclaredField("lambda");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // then only the probe recognises a ReLU
        }
    }

    private static Object functionOf(Block block) {
        try {
            return LAMBDA == null ? null : LAMBDA.get(block);
        } catch (IllegalAccessException | RuntimeException e) {
            return null; // then only the probe recognises it
        }
    }

    /**
     * Returns the node of the block that alone reads {@code layer}'s output next, or null if the
     * structure does not make that certain.
     *
     * @param tree the tree
     * @param layer the layer's node
     * @param passThrough blocks that hand their input on unchanged (looked through)
     * @return the reader's node, or null
     */
    public static BlockNode soleReader(BlockTree tree, BlockNode layer, Set<Block> passThrough) {
        BlockNode node = layer;
        while (true) {
            if (tree.occurrencesOf(node.getBlock()).size() != 1) {
                return null;
            }
            BlockNode parent = node.getParent();
            if (parent == null || !Structure.isPlainSequential(parent.getBlock())) {
                return null;
            }
            int next = node.getIndex() + 1;
            while (next < parent.getChildren().size()
                    && passThrough.contains(parent.getChildren().get(next).getBlock())) {
                next++;
            }
            if (next < parent.getChildren().size()) {
                BlockNode reader = parent.getChildren().get(next);
                return tree.occurrencesOf(reader.getBlock()).size() == 1 ? reader : null;
            }
            node = parent; // the layer's output is the sequential's output
        }
    }

    /**
     * Returns whether a block is a ReLU (see the class documentation).
     *
     * @param block the block
     * @param outputShape the shape of the input the block gets (the layer's output shape)
     * @param manager a manager for the probe
     * @return whether the block computes {@code max(x, 0)}
     */
    public static boolean isRelu(Block block, Shape outputShape, NDManager manager) {
        return activationOf(block, outputShape, manager) == FusedActivation.RELU;
    }

    /**
     * Returns the activation a block computes, from the recognition table (see the class
     * documentation), or NONE if it is not one of them.
     *
     * @param block the block
     * @param outputShape the shape of the input the block gets (the layer's output shape)
     * @param manager a manager for the probe
     * @return RELU, RELU6 or NONE
     */
    public static FusedActivation activationOf(Block block, Shape outputShape, NDManager manager) {
        if (block.getClass() != LambdaBlock.class) {
            return FusedActivation.NONE;
        }
        Object function = functionOf(block);
        for (Entry e : TABLE) {
            if (function != null && function == e.function()) {
                return e.activation();
            }
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray probe = probe(scope, outputShape);
            NDList out = block.forward(new ParameterStore(scope, false), new NDList(probe), false);
            if (out.size() != 1
                    || !out.get(0).getShape().equals(probe.getShape())
                    || out.get(0).getDataType() != probe.getDataType()) {
                return FusedActivation.NONE;
            }
            for (Entry e : TABLE) {
                if (out.get(0).contentEquals(e.effect().apply(probe))) {
                    return e.activation();
                }
            }
            return FusedActivation.NONE;
        } catch (RuntimeException e) {
            return FusedActivation.NONE; // a lambda that fails on the probe is neither
        }
    }

    /** Values over 10^-4 .. 10^4 in both signs, with zeros, deterministic. */
    private static NDArray probe(NDManager m, Shape shape) {
        long n = Math.max(1, shape.size());
        float[] v = new float[(int) Math.min(n, 1 << 24)];
        for (int i = 0; i < v.length; i++) {
            int k = i % 19;
            if (k == 18) {
                v[i] = 0f;
                continue;
            }
            float magnitude = (float) Math.pow(10, (k % 9) - 4) * (1f + (i % 7) / 8f);
            v[i] = k < 9 ? magnitude : -magnitude;
        }
        if (v.length != n) {
            throw new IllegalArgumentException("probe shape " + shape + " is too large.");
        }
        return m.create(v, shape);
    }
}
