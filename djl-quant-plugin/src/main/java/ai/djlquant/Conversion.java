package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The convert step: every observer wrapper gives way to the layer's final block (its int8 block,
 * or its float block for FP32), a fused ReLU to a pass-through block; then the tree is checked
 * to hold no observer.
 */
final class Conversion {

    private Conversion() {}

    static void convert(Session s) {
        BlockTree tree = BlockTree.walk(s.model.getBlock());
        List<Replacement> replacements = new ArrayList<>();
        Map<Replacement, String> paths = new IdentityHashMap<>();
        for (QuantLayer layer : s.layers) {
            if (layer.observed == null) {
                layer.finalBlock = layer.floatBlock;
                layer.relu = null;
                continue;
            }
            QuantizationMode mode = layer.decision.getMode();
            Block target =
                    mode == QuantizationMode.STATIC
                            ? layer.staticBlock
                            : mode == QuantizationMode.DYNAMIC
                                    ? layer.dynamicBlock
                                    : layer.floatBlock;
            layer.finalBlock = target;
            Replacement r = new Replacement(layer.observed, target);
            replacements.add(r);
            paths.put(r, layer.path);
            if (mode == QuantizationMode.FP32) {
                layer.relu = null; // the float layer leaves the ReLU to its block
            } else if (layer.relu != null) {
                Block identity = Blocks.identityBlock();
                Replacement rr = new Replacement(layer.relu, identity);
                replacements.add(rr);
                paths.put(rr, layer.reluPath);
                s.passThrough.add(identity);
            }
        }
        s.rewriter.apply(
                tree, replacements, s.log, r -> s.hooks.reached("convert " + paths.get(r)));
        verify(s);
    }

    /** No observer may stay in the tree. */
    private static void verify(Session s) {
        for (BlockNode n : BlockTree.walk(s.model.getBlock()).getNodes()) {
            if (n.getBlock() instanceof ObservedBlock) {
                throw new IllegalStateException(
                        "an observer is still in the tree at " + n.getPath() + " after convert.");
            }
        }
    }

    /**
     * Frees the float arrays that the final tree no longer uses (original layers, folded
     * BatchNorms, folded float layers that became int8). Kept when the root itself was replaced,
     * since predictors made before hold the old root.
     */
    static void releaseFloatWeights(Session s) {
        if (!s.config.isReleaseFloatWeights() || s.model.getBlock() != s.originalRoot) {
            return;
        }
        Set<NDArray> live = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : s.model.getBlock().getParameters().values()) {
            if (p.isInitialized()) {
                live.add(p.getArray());
            }
        }
        for (QuantLayer layer : s.layers) {
            for (Block b : new Block[] {layer.original, layer.foldedBatchNorm, layer.floatBlock}) {
                if (b == null || b == layer.finalBlock) {
                    continue;
                }
                for (Parameter p : b.getParameters().values()) {
                    if (p.isInitialized() && !live.contains(p.getArray())) {
                        p.close();
                    }
                }
            }
        }
    }
}
