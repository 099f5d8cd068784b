package ai.djlquant;

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
 * The fuse step: finds, for each layer that may become int8, a ReLU that alone reads its output
 * (the int8 block then applies it, and a pass-through takes its place at conversion).
 */
final class Fusion {

    private Fusion() {}

    /**
     * Finds the fusable ReLUs.
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
            BlockNode relu = fusableRelu(tree, layer, passThrough, scratch);
            out.add(relu == null ? layer : layer.withRelu(relu));
        }
        return out;
    }

    private static BlockNode fusableRelu(
            BlockTree tree, PreparedLayer layer, Set<Block> passThrough, NDManager scratch) {
        Candidate c = layer.candidate();
        if (c.places() != 1 || c.choice().mode() == QuantizationMode.FP32) {
            return null;
        }
        List<BlockNode> nodes = tree.occurrencesOf(layer.floatBlock());
        if (nodes.size() != 1) {
            return null;
        }
        BlockNode reader = ReluFusion.soleReader(tree, nodes.get(0), passThrough);
        if (reader == null) {
            return null;
        }
        Block f = layer.floatBlock();
        Shape out = f.getOutputShapes(f.getInputShapes())[0];
        return ReluFusion.isRelu(reader.getBlock(), out, scratch) ? reader : null;
    }
}
