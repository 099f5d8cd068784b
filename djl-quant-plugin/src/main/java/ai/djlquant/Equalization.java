package ai.djlquant;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.CrossLayerEqualization;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The equalize step (after fold, before fuse): cross-layer equalization of every pair of
 * consecutive candidates with the identity or a ReLU between them ({@link
 * CrossLayerEqualization}: the equations). Data-free: it reads weights only, so it runs before
 * calibration, and the activation ranges observed afterwards are those of the equalized model.
 * The new float blocks take the layers' places through the undo log.
 */
final class Equalization {

    /**
     * What it did.
     *
     * @param layers the prepared layers, equalized ones with their new float block
     * @param pairs the paths of the equalized pairs, "first -> second"
     * @param affected the paths of the layers changed
     * @param note one sentence: how many pairs qualified, and why the others did not
     */
    record Result(List<PreparedLayer> layers, List<String> pairs, List<String> affected, String note) {}

    private Equalization() {}

    static Result equalize(
            ModelEdit edit, List<PreparedLayer> layers, Set<Block> passThrough, NDManager probe) {
        BlockTree tree = edit.currentTree();
        Set<Block> inTree = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<Block, PreparedLayer> byBlock = new IdentityHashMap<>();
        for (PreparedLayer p : layers) {
            if (p.candidate().choice().mode() != ai.djlquant.plan.QuantizationMode.FP32) {
                inTree.add(p.floatBlock());
                byBlock.put(p.floatBlock(), p);
            }
        }
        CrossLayerEqualization.Found found = CrossLayerEqualization.find(tree, inTree, passThrough, probe);
        // a chain a -> b -> c: (b, c) equalizes the b that (a, b) made
        Map<Block, Block> current = new IdentityHashMap<>();
        List<String> pairs = new ArrayList<>();
        for (CrossLayerEqualization.Pair p : found.pairs()) {
            Block a = p.first().getBlock();
            Block b = p.second().getBlock();
            CrossLayerEqualization.Equalized e =
                    CrossLayerEqualization.equalize(
                            current.getOrDefault(a, a), current.getOrDefault(b, b), edit.arrays());
            edit.built(e.first());
            edit.built(e.second());
            Block stale = current.put(b, e.second());
            ModelEdit.release(current.put(a, e.first())); // a's block from an earlier pair (a chain)
            if (stale != null) {
                ModelEdit.release(stale);
            }
            pairs.add(p.first().getPath() + " -> " + p.second().getPath()
                    + (p.activation() == null ? "" : " (through ReLU)"));
        }
        List<Replacement> replacements = new ArrayList<>();
        for (Map.Entry<Block, Block> e : current.entrySet()) {
            replacements.add(new Replacement(e.getKey(), e.getValue()));
        }
        long relu6 = found.skipped().stream().filter(s -> s.reason().startsWith("ReLU6")).count();
        String skippedNote =
                found.skipped().isEmpty()
                        ? ""
                        : "; not equalized: " + relu6 + " with ReLU6 between (not positively homogeneous)"
                                + (found.skipped().size() > relu6
                                        ? ", " + (found.skipped().size() - relu6) + " other ("
                                                + firstOther(found) + ")"
                                        : "");
        Map<Block, String> problems = edit.check(tree, replacements);
        if (!problems.isEmpty()) {
            String why = problems.values().iterator().next();
            return new Result(layers, List.of(), List.of(),
                    "cross-layer equalization: not applied, a layer cannot be replaced in the tree: " + why);
        }
        edit.apply(tree, replacements);
        List<String> affected = new ArrayList<>();
        List<PreparedLayer> out = PreparedLayer.withReplacedFloatBlocks(layers, current, affected);
        String note =
                "cross-layer equalization: " + pairs.size() + " pair(s) of consecutive layers equalized"
                        + (pairs.isEmpty() ? "" : " (" + String.join(", ", pairs) + ")")
                        + skippedNote;
        return new Result(out, List.copyOf(pairs), List.copyOf(affected), note);
    }

    private static String firstOther(CrossLayerEqualization.Found found) {
        for (CrossLayerEqualization.Skipped s : found.skipped()) {
            if (!s.reason().startsWith("ReLU6")) {
                return s.first().getPath() + ": " + s.reason();
            }
        }
        return "";
    }
}
