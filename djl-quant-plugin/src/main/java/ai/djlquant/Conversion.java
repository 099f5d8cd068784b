package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.nn.ObservedBlock;
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
 * The convert step: every observer block gives way to its layer's final block (its int8 block, or
 * its float block for FP32), a fused ReLU to a pass-through; then the tree is checked to hold no
 * observer.
 */
final class Conversion {

    private Conversion() {}

    /**
     * Puts the decided blocks in the tree.
     *
     * @param edit the model's edit
     * @param layers the decided layers
     * @param swaps gives the pass-through that stands in for each fused ReLU
     * @param hooks called after each replacement ("convert &lt;path&gt;")
     */
    static void convert(
            ModelEdit edit, List<DecidedLayer> layers, LayerSwaps swaps, StepHooks hooks) {
        BlockTree tree = edit.currentTree();
        List<Replacement> replacements = new ArrayList<>();
        Map<Replacement, String> paths = new IdentityHashMap<>();
        for (DecidedLayer d : layers) {
            if (!d.observed().isObserved()) {
                continue; // the float block is in the tree already
            }
            Replacement r = new Replacement(d.observed().wrapper(), d.finalBlock());
            replacements.add(r);
            paths.put(r, d.layer().path());
            if (d.fusesRelu()) {
                Replacement rr =
                        new Replacement(d.layer().relu().getBlock(), swaps.standIn(d.layer()));
                replacements.add(rr);
                paths.put(rr, d.layer().relu().getPath());
            }
        }
        edit.apply(tree, replacements, r -> hooks.reached("convert " + paths.get(r)));
        for (BlockNode n : edit.currentTree().getNodes()) {
            if (n.getBlock() instanceof ObservedBlock) {
                throw new IllegalStateException(
                        "an observer is still in the tree at " + n.getPath() + " after convert.");
            }
        }
    }

    /**
     * Frees the float arrays that the final tree no longer uses (original layers, folded
     * BatchNorms, folded float layers that became int8). Kept when the root itself was replaced by
     * its int8 block, since predictors made before hold the old root, a float layer; a root
     * replaced by its chained version holds the same children as the old one, which run the same
     * int8 layers unchained.
     *
     * @param edit the committed edit
     * @param layers the decided layers
     */
    static void releaseFloatWeights(ModelEdit edit, List<DecidedLayer> layers) {
        Block root = edit.model().getBlock();
        if (root != edit.originalRoot() && !(root instanceof ChainedSequentialBlock)) {
            return;
        }
        Set<NDArray> live = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : edit.model().getBlock().getParameters().values()) {
            if (p.isInitialized()) {
                live.add(p.getArray());
            }
        }
        for (DecidedLayer d : layers) {
            PreparedLayer l = d.layer();
            Block bn = l.foldedBatchNorm() == null ? null : l.foldedBatchNorm().getBlock();
            for (Block b : new Block[] {l.candidate().block(), bn, l.floatBlock()}) {
                if (b == null || b == d.finalBlock()) {
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
