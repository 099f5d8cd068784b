package ai.djlquant;

import ai.djl.nn.Block;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.kind.LayerKinds;
import ai.djlquant.plan.ModeRules;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A layer the quantizer may convert: a block of a known {@link LayerKind}, not excluded by the
 * user's rules, as the user's tree holds it.
 *
 * @param block the layer as the user's tree holds it
 * @param path its path (its first place, if it is shared)
 * @param places the number of places it has in the tree
 * @param kind its kind
 * @param choice what the user's rules say for it
 */
record Candidate(Block block, String path, int places, LayerKind kind, ModeRules.Choice choice) {

    /**
     * Finds the candidates of a tree, in tree order, each shared block once.
     *
     * @param tree the user's tree
     * @param rules the user's rules
     * @return the candidates
     */
    static List<Candidate> findAll(BlockTree tree, ModeRules rules) {
        List<Candidate> out = new ArrayList<>();
        Set<Block> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockNode n : tree.getNodes()) {
            Block b = n.getBlock();
            LayerKind kind = LayerKinds.ofFloat(b);
            if (kind == null || !seen.add(b) || rules.exclusionOf(n.getPath()) != null) {
                continue; // an excluded layer is reported as an fp32 row
            }
            int places = tree.occurrencesOf(b).size();
            out.add(new Candidate(b, n.getPath(), places, kind, rules.modeFor(n.getPath(), b.getClass())));
        }
        return out;
    }

    /** The float layer's type name, as the report spells it. */
    String type() {
        return block.getClass().getSimpleName();
    }
}
