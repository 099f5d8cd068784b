package ai.djlquant.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.kind.LayerKinds;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Folds a {@link BatchNorm} into the layer right before it: a layer of any {@link LayerKind}.
 *
 * <p>In inference DJL's BatchNorm (on the PyTorch engine, {@code torch.batch_norm} with {@code
 * training=false}) computes {@code y = (x - runningMean) / sqrt(runningVar + epsilon) * gamma +
 * beta} per channel of its axis, with gamma and beta used as stored whatever the builder's {@code
 * center}/{@code scale} flags were. With {@code s = gamma / sqrt(runningVar + epsilon)} the layer
 * before it becomes {@code W' = W * s[c]} (per output channel) and {@code b' = (b - runningMean) *
 * s + beta}; the products are formed in float64 and rounded once to float32.
 *
 * <p>A pair is folded only where the structure makes it exact: the BatchNorm is the next child of
 * a {@linkplain SequentialBlock plain SequentialBlock} after the layer (so it alone reads the
 * layer's output), normalises axis 1 (the output channels of a convolution, the units of a Linear
 * on 2-D input), and both blocks appear once in the tree. {@link #fold} makes a new float block
 * with new arrays; the original layer and BatchNorm are not changed.
 */
public final class BatchNormFolding {

    private BatchNormFolding() {}

    /**
     * A layer and the BatchNorm that reads its output.
     *
     * @param layer the layer's node
     * @param batchNorm the BatchNorm's node
     */
    public record Pair(BlockNode layer, BlockNode batchNorm) {}

    /**
     * A BatchNorm after a layer that is not folded, and why.
     *
     * @param batchNorm the BatchNorm's node
     * @param reason why it is not folded
     */
    public record Skipped(BlockNode batchNorm, String reason) {}

    /**
     * The pairs found in a tree, and the BatchNorms after a layer that cannot be folded.
     *
     * @param pairs the foldable pairs, in tree order
     * @param skipped the BatchNorms right after a layer that cannot be folded
     */
    public record Found(List<Pair> pairs, List<Skipped> skipped) {}

    /**
     * Finds the foldable pairs of a tree.
     *
     * @param tree the tree
     * @return the pairs and the skipped BatchNorms
     */
    public static Found find(BlockTree tree) {
        List<Pair> pairs = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (BlockNode node : tree.getNodes()) {
            BlockNode parent = node.getParent();
            if (LayerKinds.ofFloat(node.getBlock()) == null
                    || parent == null
                    || node.getIndex() + 1 >= parent.getChildren().size()) {
                continue;
            }
            BlockNode next = parent.getChildren().get(node.getIndex() + 1);
            if (!(next.getBlock() instanceof BatchNorm)) {
                continue;
            }
            String why = whyNot(tree, node, next);
            if (why == null) {
                pairs.add(new Pair(node, next));
            } else {
                skipped.add(new Skipped(next, why));
            }
        }
        return new Found(List.copyOf(pairs), List.copyOf(skipped));
    }

    private static String whyNot(BlockTree tree, BlockNode layer, BlockNode bnNode) {
        if (!Structure.isPlainSequential(layer.getParent().getBlock())) {
            return "its parent " + layer.getParent().getType()
                    + " is not a plain SequentialBlock, so other blocks may read "
                    + layer.getPath() + "'s output";
        }
        if (bnNode.getBlock().getClass() != BatchNorm.class) {
            return "it is a subclass of BatchNorm (" + bnNode.getType() + ")";
        }
        if (tree.occurrencesOf(layer.getBlock()).size() > 1
                || tree.occurrencesOf(bnNode.getBlock()).size() > 1) {
            return "the layer or the BatchNorm is shared by several places of the tree";
        }
        BatchNorm bn = (BatchNorm) bnNode.getBlock();
        int axis;
        try {
            axis = axisOf(bn);
            epsilonOf(bn);
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        if (axis != 1) {
            return "it normalises axis " + axis + ", not the channel axis 1";
        }
        Block l = layer.getBlock();
        if (!l.isInitialized() || !bn.isInitialized()) {
            return "the layer or the BatchNorm is not initialised";
        }
        String kindReason = LayerKinds.ofFloat(l).whyNotFoldable(l);
        if (kindReason != null) {
            return kindReason;
        }
        long channels = weightOf(l).getShape().get(0);
        long bnChannels = bn.getDirectParameters().get("runningMean").getArray().size();
        if (channels != bnChannels) {
            return "it has " + bnChannels + " channels, the layer " + channels;
        }
        return null;
    }

    /**
     * Makes the folded float block: a new block of the layer's kind and structure, a
     * bias, and the folded weight and bias in new arrays of {@code manager}.
     *
     * @param layer an initialised float layer of a known kind
     * @param bn the initialised BatchNorm that follows it
     * @param manager the manager of the new arrays
     * @return the folded block, initialised with the layer's input shapes
     */
    public static Block fold(Block layer, BatchNorm bn, NDManager manager) {
        float eps = epsilonOf(bn);
        NDArray w = weightOf(layer);
        Parameter biasParam = layer.getDirectParameters().get("bias");
        NDArray b = biasParam == null ? null : biasParam.getArray();
        NDArray gamma = bn.getDirectParameters().get("gamma").getArray();
        NDArray beta = bn.getDirectParameters().get("beta").getArray();
        NDArray mean = bn.getDirectParameters().get("runningMean").getArray();
        NDArray var = bn.getDirectParameters().get("runningVar").getArray();
        NDArray foldedW;
        NDArray foldedB;
        try (NDManager scope = manager.newSubManager()) {
            for (NDArray a : Arrays.asList(w, b, gamma, beta, mean, var)) {
                if (a != null) {
                    a.tempAttach(scope); // temporaries land in scope; a goes back on close
                }
            }
            NDArray s =
                    f64(gamma).div(f64(var).add(eps).sqrt()); // gamma / sqrt(var + eps), per channel
            long[] perChannel = new long[w.getShape().dimension()];
            Arrays.fill(perChannel, 1);
            perChannel[0] = s.size();
            foldedW = f64(w).mul(s.reshape(new Shape(perChannel))).toType(DataType.FLOAT32, false);
            NDArray shifted = b == null ? f64(mean).neg() : f64(b).sub(f64(mean));
            foldedB = shifted.mul(s).add(f64(beta)).toType(DataType.FLOAT32, false);
            foldedW.attach(manager);
            foldedB.attach(manager);
        }
        Block folded = emptyLike(layer);
        NDArray fw = foldedW;
        NDArray fb = foldedB;
        folded.setInitializer((m, shape, type) -> checked(fw, shape), "weight");
        folded.setInitializer((m, shape, type) -> checked(fb, shape), "bias");
        folded.initialize(manager, DataType.FLOAT32, layer.getInputShapes());
        folded.freezeParameters(!layer.getDirectParameters().get("weight").requiresGradient());
        return folded;
    }

    private static NDArray f64(NDArray a) {
        return a.toType(DataType.FLOAT64, false);
    }

    private static NDArray checked(NDArray a, Shape expected) {
        if (!a.getShape().equals(expected)) {
            throw new IllegalStateException(
                    "folded array of shape " + a.getShape() + " does not fit " + expected + ".");
        }
        return a;
    }

    /** A new block of the layer's kind and structure with a bias, not initialised. */
    private static Block emptyLike(Block layer) {
        LayerKind kind = LayerKinds.ofFloat(layer);
        return kind.newFloatBlock(kind.structureOf(layer).withBias(true));
    }

    private static NDArray weightOf(Block layer) {
        return layer.getDirectParameters().get("weight").getArray();
    }

    /**
     * Returns a BatchNorm's epsilon (a private field of DJL's BatchNorm without a getter).
     *
     * @param bn the BatchNorm
     * @return epsilon
     * @throws IllegalStateException if the field cannot be read
     */
    public static float epsilonOf(BatchNorm bn) {
        return ((Number) privateField(bn, "epsilon")).floatValue();
    }

    /**
     * Returns the axis a BatchNorm normalises (a private field of DJL's BatchNorm).
     *
     * @param bn the BatchNorm
     * @return the axis
     * @throws IllegalStateException if the field cannot be read
     */
    public static int axisOf(BatchNorm bn) {
        return ((Number) privateField(bn, "axis")).intValue();
    }

    private static Object privateField(BatchNorm bn, String name) {
        try {
            Field f = BatchNorm.class.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(bn);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "BatchNorm's " + name + " cannot be read (" + e + ")", e);
        }
    }
}
