package ai.djlquant;

import ai.djlquant.quant.FusedActivation;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ReluFusion;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fuse step: finds, for each layer that may become int8, a ReLU or ReLU6 that alone reads its
 * output (the int8 block then applies it, and a pass-through takes its place at conversion).
 */
final class Fusion {

    private Fusion() {}

    /**
     * Finds the fusable ReLUs and ReLU6s.
     *
     * @param tree the tree after folding
     * @param layers the prepared layers
     * @param passThrough blocks that hand their input on (folded BatchNorms' places)
     * @param scratch a manager for the probe that tells a ReLU lambda from others
     * @param enabled whether fusion is on
     * @return the layers, each with its fusable ReLU where it has one
     */
    static List<PreparedLayer> findRelus(
            BlockTree tree,
            List<PreparedLayer> layers,
            Set<Block> passThrough,
            NDManager scratch,
            boolean enabled) {
        if (!enabled) {
            return layers;
        }
        List<PreparedLayer> out = new ArrayList<>(layers.size());
        for (PreparedLayer layer : layers) {
            BlockNode reader = soleReader(tree, layer, passThrough);
            FusedActivation a =
                    reader == null
                            ? FusedActivation.NONE
                            : ReluFusion.activationOf(reader.getBlock(), outputShape(layer), scratch);
            out.add(a == FusedActivation.NONE ? layer : layer.withRelu(reader, a));
        }
        return out;
    }

    private static BlockNode soleReader(
            BlockTree tree, PreparedLayer layer, Set<Block> passThrough) {
        Candidate c = layer.candidate();
        if (c.places() != 1 || c.choice().mode() == QuantizationMode.FP32) {
            return null;
        }
        List<BlockNode> nodes = tree.occurrencesOf(layer.floatBlock());
        if (nodes.size() != 1) {
            return null;
        }
        return ReluFusion.soleReader(tree, nodes.get(0), passThrough);
    }

    private static Shape outputShape(PreparedLayer layer) {
        Block f = layer.floatBlock();
        return f.getOutputShapes(f.getInputShapes())[0];
    }
}
