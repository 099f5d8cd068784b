package ai.djlquant.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.training.ParameterStore;

import java.lang.reflect.Field;
import java.util.Set;

/**
 * Finds a ReLU that reads a layer's output and nothing else, so the int8 block can apply it and the
 * ReLU block can be dropped.
 *
 * <p>Recognising a ReLU: DJL's {@link Activation#reluBlock()} is a {@link LambdaBlock} around
 * {@code Activation::relu}; {@code SequentialBlock.add(Activation::relu)} (DJL's ResNetV1 does
 * this) is a LambdaBlock around another lambda with the same effect, and a LambdaBlock's name says
 * nothing certain. So a LambdaBlock counts as a ReLU if it holds the very function of {@code
 * reluBlock()}, or if it returns exactly {@code max(x, 0)} for a probe of the layer's output shape
 * whose values span 10^-4 to 10^4 in both signs and zeros (which tells ReLU from ReLU6, leaky ReLU,
 * GELU or a clip).
 *
 * <p>Safety: the ReLU must be the next block to run on the layer's output and its only reader:
 * the next child of a plain SequentialBlock (DJL's own forward, no intermediate outputs), looking
 * through blocks that
 * pass their input on unchanged (a folded BatchNorm's place) and out of the end of nested
 * plain SequentialBlocks. Shared blocks are never fused.
 */
public final class ReluFusion {

    private static final Field LAMBDA = lambdaField();
    private static final Object RELU_FUNCTION = reluFunction();

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

    private static Object reluFunction() {
        try {
            return LAMBDA == null ? null : LAMBDA.get(Activation.reluBlock());
        } catch (IllegalAccessException | RuntimeException e) {
            return null;
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
        if (block.getClass() != LambdaBlock.class) {
            return false;
        }
        if (RELU_FUNCTION != null) {
            try {
                if (LAMBDA.get(block) == RELU_FUNCTION) {
                    return true;
                }
            } catch (IllegalAccessException | RuntimeException e) {
                // fall through to the probe
            }
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray probe = probe(scope, outputShape);
            NDList out = block.forward(new ParameterStore(scope, false), new NDList(probe), false);
            if (out.size() != 1 || !out.get(0).getShape().equals(probe.getShape())) {
                return false;
            }
            NDArray expected = Activation.relu(probe);
            return out.get(0).getDataType() == probe.getDataType()
                    && out.get(0).contentEquals(expected);
        } catch (RuntimeException e) {
            return false; // a lambda that fails on the probe is not a ReLU
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
