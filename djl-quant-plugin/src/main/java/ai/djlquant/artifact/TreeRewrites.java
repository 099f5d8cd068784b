package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockRewriter;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.Replacement;
import ai.djlquant.transform.RewriteLog;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What quantization changed in a block tree, as places and blocks: found by comparing the quantized
 * tree with the tree the base {@code BlockFactory} builds, and applied again to a newly built base
 * tree when an artifact is loaded.
 *
 * <p>Quantization replaces blocks in place and keeps every child key (transform's rewriter does),
 * so both trees have the same paths; only the blocks at some paths differ: an int8 block where a
 * Linear or convolution was, a pass-through where a BatchNorm was folded or a ReLU fused, a float
 * layer with a bias where a BatchNorm was folded into a layer left fp32.
 */
final class TreeRewrites {

    private TreeRewrites() {}

    /**
     * Describes every place of a tree, in pre-order.
     *
     * @param tree the walked tree
     * @return path to {@link BlockSpec#describe(Block)}
     */
    static Map<String, String> architecture(BlockTree tree) {
        Map<String, String> m = new LinkedHashMap<>();
        for (BlockNode n : tree.getNodes()) {
            m.put(n.getPath(), BlockSpec.describe(n.getBlock()));
        }
        return m;
    }

    /**
     * Finds the rewrites that turn the base tree into the quantized one.
     *
     * @param base the tree the base factory builds (not initialised)
     * @param quantized the quantized model's tree
     * @param factory the base factory's class name, for messages
     * @return the rewrites, in pre-order
     * @throws ArtifactException if the trees differ in a way the artifact cannot record
     */
    static List<Rewrite> diff(BlockTree base, BlockTree quantized, String factory)
            throws ArtifactException {
        Map<String, String> b = architecture(base);
        Map<String, String> q = architecture(quantized);
        samePlaces(
                b,
                q,
                false,
                factory,
                "quantized model",
                "; name the factory that builds this model's float architecture.");
        List<Rewrite> rewrites = new ArrayList<>();
        for (BlockNode n : quantized.getNodes()) {
            String was = b.get(n.getPath());
            String now = q.get(n.getPath());
            if (was.equals(now)) {
                continue;
            }
            BlockSpec spec = BlockSpec.of(n.getBlock());
            if (spec == null) {
                throw new ArtifactException(
                        "layer "
                                + n.displayPath()
                                + " is a "
                                + now
                                + " in the quantized model but a "
                                + was
                                + " in the architecture of "
                                + factory
                                + "; an artifact can only put int8 blocks, pass-throughs and"
                                + " folded Linear/convolution layers in place of the factory's"
                                + " blocks.");
            }
            String why = spec.whyNotInPlaceOf(base.find(n.getPath()).getBlock());
            if (why != null) {
                throw new ArtifactException(
                        "layer "
                                + n.displayPath()
                                + " is a "
                                + now
                                + " in the quantized model but the block factory "
                                + factory
                                + " builds a "
                                + was
                                + " there ("
                                + why
                                + "): name the factory of the architecture this model was"
                                + " quantized from.");
            }
            rewrites.add(new Rewrite(n.getPath(), was, spec));
        }
        return rewrites;
    }

    /**
     * Applies rewrites to a newly built base tree (not initialised); the new blocks are empty, for
     * parameter loading to fill.
     *
     * @param model the model the tree is for (its root is set to {@code root} first, and replaced
     *     if a rewrite is at the root)
     * @param root the base tree's root
     * @param rewrites the rewrites
     * @param factory the base factory's class name, for messages
     * @return the rewritten root
     * @throws ArtifactException if the base tree does not have the blocks the rewrites replace
     */
    static Block apply(Model model, Block root, List<Rewrite> rewrites, String factory)
            throws ArtifactException {
        model.setBlock(root);
        BlockTree tree;
        try {
            tree = BlockTree.walk(root);
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(
                    "the block factory "
                            + factory
                            + " builds a tree that cannot be walked: "
                            + e.getMessage(),
                    e);
        }
        Map<Block, BlockSpec> specs = new IdentityHashMap<>();
        List<Replacement> replacements = new ArrayList<>();
        for (Rewrite r : rewrites) {
            BlockNode node = tree.find(r.path());
            if (node == null) {
                throw new ArtifactException(
                        "the block factory "
                                + factory
                                + " builds no block at "
                                + display(r.path())
                                + ", where the artifact replaces a "
                                + r.base()
                                + ": the factory's architecture changed since the export.");
            }
            String now = BlockSpec.describe(node.getBlock());
            if (!now.equals(r.base())) {
                throw new ArtifactException(
                        "the block factory "
                                + factory
                                + " builds a "
                                + now
                                + " at "
                                + display(r.path())
                                + ", but the artifact was exported from a "
                                + r.base()
                                + " there: the factory's architecture changed since the export.");
            }
            String why = r.spec().whyNotInPlaceOf(node.getBlock());
            if (why != null) {
                throw new ArtifactException(
                        ArtifactFormat.MANIFEST_FILE
                                + " puts a "
                                + r.spec()
                                + " at "
                                + display(r.path())
                                + " in place of a "
                                + now
                                + ": "
                                + why
                                + ".");
            }
            BlockSpec earlier = specs.get(node.getBlock());
            if (earlier != null) {
                if (!earlier.equals(r.spec())) {
                    throw new ArtifactException(
                            "the block at "
                                    + display(r.path())
                                    + " is shared with another place that the artifact rebuilds"
                                    + " as a "
                                    + earlier
                                    + ", not a "
                                    + r.spec()
                                    + ".");
                }
                continue; // a shared block: one replacement covers all its places
            }
            specs.put(node.getBlock(), r.spec());
            replacements.add(new Replacement(node.getBlock(), r.spec().newBlock()));
        }
        try {
            BlockRewriter.forLoading(model).apply(tree, replacements, new RewriteLog());
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(
                    "the artifact's blocks cannot be put into the tree of "
                            + factory
                            + ": "
                            + e.getMessage(),
                    e);
        }
        return model.getBlock();
    }

    /**
     * Checks that a tree has the recorded architecture.
     *
     * @param root the rebuilt root
     * @param recorded the architecture recorded at export
     * @param factory the base factory's class name, for messages
     * @throws ArtifactException naming the first place that differs
     */
    static void check(Block root, Map<String, String> recorded, String factory)
            throws ArtifactException {
        samePlaces(
                architecture(BlockTree.walk(root)),
                recorded,
                true,
                factory,
                "artifact",
                ": the factory's architecture changed since the export.");
    }

    /**
     * Fails at the first place that only one of two architectures has or, with {@code sameBlocks},
     * that holds another block in the other.
     *
     * @param built what the base factory builds
     * @param other the architecture it must match, in the order to report places
     * @param sameBlocks whether each place must also hold the same block
     * @param factory the base factory's class name, for messages
     * @param otherName what the other architecture is, for messages ("artifact")
     * @param advice the end of the message, what to do
     * @throws ArtifactException naming the place
     */
    private static void samePlaces(
            Map<String, String> built,
            Map<String, String> other,
            boolean sameBlocks,
            String factory,
            String otherName,
            String advice)
            throws ArtifactException {
        for (Map.Entry<String, String> e : other.entrySet()) {
            String b = built.get(e.getKey());
            if (b == null || (sameBlocks && !b.equals(e.getValue()))) {
                throw new ArtifactException(
                        "the block factory "
                                + factory
                                + (b == null
                                        ? " builds no block at " + display(e.getKey())
                                        : " builds a " + b + " at " + display(e.getKey()))
                                + ", where the "
                                + otherName
                                + " has a "
                                + e.getValue()
                                + advice);
            }
        }
        for (Map.Entry<String, String> e : built.entrySet()) {
            if (!other.containsKey(e.getKey())) {
                throw new ArtifactException(
                        "the block factory "
                                + factory
                                + " builds a "
                                + e.getValue()
                                + " at "
                                + display(e.getKey())
                                + ", which the "
                                + otherName
                                + " does not have"
                                + advice);
            }
        }
    }

    /** A path for messages: the root has the empty path. */
    static String display(String path) {
        return path.isEmpty() ? "the root" : path;
    }
}
