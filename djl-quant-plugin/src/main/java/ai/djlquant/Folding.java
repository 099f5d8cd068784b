package ai.djlquant;

import ai.djlquant.quant.FusedActivation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.transform.BatchNormFolding;
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
 * The fold step (PyTorch's fuse): every BatchNorm right after a candidate goes into a new float
 * block of the candidate's kind, and a pass-through takes the BatchNorm's place.
 */
final class Folding {

    /**
     * What folding did.
     *
     * @param layers the candidates, prepared: with their folded float block where one was made
     * @param unfolded why each BatchNorm after a layer was not folded
     * @param passThrough the blocks put where a BatchNorm was (they hand their input on)
     */
    record Result(List<PreparedLayer> layers, Map<Block, String> unfolded, Set<Block> passThrough) {}

    private record Fold(PreparedLayer layer, Block identity) {}

    private Folding() {}

    /**
     * Folds every foldable BatchNorm after a candidate.
     *
     * @param edit the model's edit
     * @param tree the user's tree
     * @param candidates the candidates
     * @param enabled whether folding is on
     * @return the prepared layers and what was not folded
     */
    static Result fold(ModelEdit edit, BlockTree tree, List<Candidate> candidates, boolean enabled) {
        Map<Block, String> unfolded = new IdentityHashMap<>();
        Set<Block> passThrough = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<Block, PreparedLayer> byBlock = new IdentityHashMap<>();
        for (Candidate c : candidates) {
            byBlock.put(c.block(), PreparedLayer.of(c));
        }
        if (enabled) {
            BatchNormFolding.Found found = BatchNormFolding.find(tree);
            for (BatchNormFolding.Skipped k : found.skipped()) {
                unfolded.put(k.batchNorm().getBlock(), k.reason());
            }
            List<Replacement> replacements = new ArrayList<>();
            List<Fold> folds = new ArrayList<>();
            for (BatchNormFolding.Pair pair : found.pairs()) {
                PreparedLayer layer = byBlock.get(pair.layer().getBlock());
                BlockNode bn = pair.batchNorm();
                if (layer == null) {
                    unfolded.put(bn.getBlock(), "the layer before it is excluded");
                    continue; // excluded: left exactly as it is
                }
                Block folded =
                        BatchNormFolding.fold(
                                layer.floatBlock(), (BatchNorm) bn.getBlock(), edit.arrays());
                Block identity = Blocks.identityBlock();
                replacements.add(new Replacement(layer.floatBlock(), folded));
                replacements.add(new Replacement(bn.getBlock(), identity));
                folds.add(new Fold(new PreparedLayer(layer.candidate(), folded, bn, null, FusedActivation.NONE), identity));
            }
            Map<Block, String> problems = edit.check(tree, replacements);
            List<Replacement> possible = new ArrayList<>();
            for (Fold f : folds) {
                Block original = f.layer().candidate().block();
                Block bn = f.layer().foldedBatchNorm().getBlock();
                String problem = problems.containsKey(original) ? problems.get(original) : problems.get(bn);
                if (problem != null) {
                    unfolded.put(bn, "it cannot be replaced in the tree: " + problem);
                    ModelEdit.release(f.layer().floatBlock());
                    continue;
                }
                possible.add(new Replacement(original, f.layer().floatBlock()));
                possible.add(new Replacement(bn, f.identity()));
                byBlock.put(original, f.layer());
                passThrough.add(f.identity());
            }
            edit.apply(tree, possible);
        }
        List<PreparedLayer> layers = new ArrayList<>();
        for (Candidate c : candidates) {
            layers.add(byBlock.get(c.block()));
        }
        return new Result(layers, unfolded, passThrough);
    }
}
