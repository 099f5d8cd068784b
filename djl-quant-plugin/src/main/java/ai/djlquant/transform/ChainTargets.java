package ai.djlquant.transform;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djlquant.annotations.Internal;
import ai.djlquant.nn.ChainRun;
import ai.djlquant.nn.ChainedSequentialBlock;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where int8 chains form in a tree, and how they are named: the quantizer forms them
 * ({@code Chaining}), the artifact records their names and the loader forms them again and checks
 * it found the same ones.
 *
 * <p>A chain's name is the display paths of its int8 layers (the layer inside a link's
 * single-layer wrapper, not the wrapper), joined by {@code " -> "}; the max poolings and the
 * flatten a chain runs between its layers are not named (the model implies them, and names
 * written before chains crossed poolings keep their meaning). Targets come
 * innermost first (a SequentialBlock's chained replacement takes an already chained inner block as
 * its child); {@link #names} lists them in the model's order.
 */
@Internal
public final class ChainTargets {

    /**
     * One SequentialBlock that holds chains.
     *
     * @param block the block to replace by a {@link ChainedSequentialBlock}
     * @param runs its runs
     * @param names the name of each run's chain
     * @param layers the display paths of each run's int8 layers, in order
     */
    public record Target(
            SequentialBlock block, List<ChainRun> runs, List<String> names, List<List<String>> layers) {

        /**
         * This target narrowed to the chains named in {@code wanted}: the loader forms only the
         * chains an artifact records, so that one exported before a kind of chain existed (which
         * its layers can form now) loads with the chains it ran. A recorded name may also be part
         * of a run found now, as many of its consecutive layers as it names (an artifact written
         * before chains crossed a flatten named the Linear head alone): that part is formed.
         *
         * @param wanted the names to keep
         * @return the narrowed target, or null if it keeps no chain
         */
        public Target only(Collection<String> wanted) {
            List<ChainRun> keptRuns = new ArrayList<>();
            List<String> keptNames = new ArrayList<>();
            List<List<String>> keptLayers = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                if (wanted.contains(names.get(i))) {
                    keptRuns.add(runs.get(i));
                    keptNames.add(names.get(i));
                    keptLayers.add(layers.get(i));
                    continue;
                }
                int[] links = linkIndices(runs.get(i));
                List<String> paths = layers.get(i);
                int after = 0; // parts in order, not overlapping
                for (int a = 0; a < paths.size() - 1; a++) {
                    for (int b = paths.size() - 1; b > a && a >= after; b--) {
                        List<String> part = paths.subList(a, b + 1);
                        String name = String.join(" -> ", part);
                        if (wanted.contains(name)) {
                            keptRuns.add(new ChainRun(links[a], links[b] + 1));
                            keptNames.add(name);
                            keptLayers.add(List.copyOf(part));
                            after = b + 1;
                        }
                    }
                }
            }
            return keptRuns.isEmpty()
                    ? null
                    : new Target(
                            block, List.copyOf(keptRuns), List.copyOf(keptNames), List.copyOf(keptLayers));
        }

        /** The child indices of a run's links, in order. */
        private int[] linkIndices(ChainRun r) {
            List<Block> kids = block.getChildren().values();
            List<Integer> out = new ArrayList<>();
            for (int i = r.from(); i < r.to(); i++) {
                if (ChainedSequentialBlock.layerOf(kids.get(i)) != null) {
                    out.add(i);
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private ChainTargets() {}

    /**
     * Finds the SequentialBlocks of an unchained tree that hold runs of int8 layers ({@link
     * ChainedSequentialBlock#findRuns}).
     *
     * @param tree the tree
     * @return the targets, innermost first
     */
    public static List<Target> find(BlockTree tree) {
        return collect(tree, false);
    }

    /**
     * The replacements that chain the targets' blocks, innermost first as the targets come: each
     * chained block takes, in place of a child that an earlier target chains, that target's chained
     * block, so that applying them in turn ({@link BlockRewriter#applyInTurn}) leaves a chained
     * block inside a chained block (its parent's copy of the children is made before the inner
     * replacement is applied).
     *
     * @param targets targets as {@link #find} returns them
     * @return one replacement per target, in the same order
     */
    public static List<Replacement> replacements(List<Target> targets) {
        Map<Block, Block> chained = new IdentityHashMap<>();
        List<Replacement> out = new ArrayList<>(targets.size());
        for (Target t : targets) {
            ChainedSequentialBlock c = new ChainedSequentialBlock(t.block(), t.runs(), chained);
            chained.put(t.block(), c);
            out.add(new Replacement(t.block(), c));
        }
        return out;
    }

    /**
     * The names of the chains a tree runs now (its {@link ChainedSequentialBlock}s), in the
     * model's order.
     *
     * @param tree the tree
     * @return the names
     */
    public static List<String> formed(BlockTree tree) {
        return names(collect(tree, true));
    }

    /**
     * The names of the targets' chains, in the model's order.
     *
     * @param targets targets as {@link #find} returns them
     * @return the names
     */
    public static List<String> names(List<Target> targets) {
        List<String> out = new ArrayList<>();
        for (int i = targets.size() - 1; i >= 0; i--) {
            out.addAll(targets.get(i).names());
        }
        return List.copyOf(out);
    }

    /** The node of {@code layer} in the subtree at {@code n} (a link's wrapper holds it). */
    private static BlockNode nodeOf(BlockNode n, Block layer) {
        if (n.getBlock() == layer) {
            return n;
        }
        for (BlockNode c : n.getChildren()) {
            BlockNode found = nodeOf(c, layer);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static List<Target> collect(BlockTree tree, boolean chained) {
        Map<Block, Boolean> seen = new IdentityHashMap<>();
        List<Target> targets = new ArrayList<>();
        List<BlockNode> nodes = new ArrayList<>(tree.getNodes());
        Collections.reverse(nodes); // pre-order reversed: descendants before their ancestors
        for (BlockNode n : nodes) {
            if (!(n.getBlock() instanceof SequentialBlock s)
                    || (s instanceof ChainedSequentialBlock) != chained
                    || !ChainedSequentialBlock.runsLikeSequentialBlock(s.getClass())
                    || seen.put(s, Boolean.TRUE) != null) {
                continue;
            }
            List<ChainRun> runs =
                    chained
                            ? ((ChainedSequentialBlock) s).getRuns()
                            : ChainedSequentialBlock.findRuns(s);
            if (runs.isEmpty()) {
                continue;
            }
            List<String> names = new ArrayList<>();
            List<List<String>> layers = new ArrayList<>();
            for (ChainRun r : runs) {
                List<String> paths = new ArrayList<>();
                for (int i = r.from(); i < r.to(); i++) {
                    BlockNode child = n.getChildren().get(i);
                    Block layer = ChainedSequentialBlock.layerOf(child.getBlock());
                    BlockNode node = layer == null ? null : nodeOf(child, layer);
                    if (node != null) {
                        paths.add(node.displayPath());
                    }
                }
                names.add(String.join(" -> ", paths));
                layers.add(List.copyOf(paths));
            }
            targets.add(new Target(s, runs, List.copyOf(names), List.copyOf(layers)));
        }
        return targets;
    }
}
