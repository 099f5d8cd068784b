package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.norm.LayerNorm;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.Replacement;
import ai.djlquant.transform.Reweighting;
import ai.djlquant.transform.SmoothQuant;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The smooth step (after equalize, before fuse): SmoothQuant's migration of activation outliers
 * from each LayerNorm's output into the Linear layers that read it ({@link SmoothQuant}: the
 * equations).
 *
 * <p>It needs {@code max|X_j|}, so it runs its own pass over the calibration source first, with
 * each LayerNorm of a group stood in for by a {@link ChannelMaxTap} (a trial of the undo log,
 * taken back after the pass): the calibration is run twice. The second pass, the calibrate step,
 * observes the migrated model: the activation ranges the int8 blocks get are those of {@code X /
 * s}, which the first pass cannot know. The new LayerNorms and Linears take the old ones' places
 * through the undo log.
 */
final class Smoothing {

    /**
     * What it did.
     *
     * @param layers the prepared layers, the migrated consumers with their new float block
     * @param affected the paths of the Linear layers changed
     * @param note one sentence: groups migrated, alpha, the largest scale
     */
    record Result(List<PreparedLayer> layers, List<String> affected, String note) {}

    private Smoothing() {}

    static Result smooth(
            ModelEdit edit,
            Model model,
            CalibrationData data,
            long samples,
            QuantizationConfig config,
            double alpha,
            List<PreparedLayer> layers,
            Set<Block> passThrough,
            NDManager kept) {
        BlockTree tree = edit.currentTree();
        Set<Block> inTree = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<Block, PreparedLayer> byBlock = new IdentityHashMap<>();
        for (PreparedLayer p : layers) {
            if (p.candidate().choice().mode() != ai.djlquant.plan.QuantizationMode.FP32) {
                inTree.add(p.floatBlock());
                byBlock.put(p.floatBlock(), p);
            }
        }
        List<SmoothQuant.Group> groups = SmoothQuant.find(tree, inTree, passThrough);
        if (groups.isEmpty()) {
            return new Result(layers, List.of(),
                    "SmoothQuant: no LayerNorm whose output only Linear layers read");
        }
        List<Replacement> taps = new ArrayList<>();
        List<ChannelMaxTap> tapList = new ArrayList<>();
        for (SmoothQuant.Group g : groups) {
            LayerNorm norm = (LayerNorm) g.norm().getBlock();
            int channels = (int) norm.getDirectParameters().get("gamma").getArray().size();
            ChannelMaxTap tap = new ChannelMaxTap(norm, channels);
            taps.add(new Replacement(norm, tap));
            tapList.add(tap);
        }
        Map<Block, String> problems = edit.check(tree, taps);
        if (!problems.isEmpty()) {
            return new Result(layers, List.of(),
                    "SmoothQuant: not applied, a LayerNorm cannot be replaced in the tree: "
                            + problems.values().iterator().next());
        }
        ReferenceRecorder none = new ReferenceRecorder(kept, 0, config.getSeed());
        edit.during(
                taps,
                () ->
                        Calibration.run(
                                model,
                                data,
                                samples,
                                new ForwardTracker(),
                                config.getProgress(),
                                config.getSeed(),
                                none));
        List<Replacement> replacements = new ArrayList<>();
        Map<Block, Block> newConsumer = new IdentityHashMap<>();
        double largest = 0;
        double smallest = Double.POSITIVE_INFINITY;
        for (int i = 0; i < groups.size(); i++) {
            SmoothQuant.Group g = groups.get(i);
            List<Block> consumers = new ArrayList<>();
            for (BlockNode c : g.consumers()) {
                consumers.add(c.getBlock());
            }
            double[] s = SmoothQuant.scales(tapList.get(i).channelMax(), consumers, alpha);
            for (double v : s) {
                largest = Math.max(largest, v);
                smallest = Math.min(smallest, v);
            }
            LayerNorm norm = (LayerNorm) g.norm().getBlock();
            replacements.add(
                    new Replacement(norm, edit.built(Reweighting.divided(norm, s, edit.arrays()))));
            for (Block c : consumers) {
                Block scaled = edit.built(SmoothQuant.scaledColumns(c, s, edit.arrays()));
                newConsumer.put(c, scaled);
                replacements.add(new Replacement(c, scaled));
            }
        }
        problems = edit.check(tree, replacements);
        if (!problems.isEmpty()) {
            return new Result(layers, List.of(),
                    "SmoothQuant: not applied, a layer cannot be replaced in the tree: "
                            + problems.values().iterator().next());
        }
        edit.apply(tree, replacements);
        List<String> affected = new ArrayList<>();
        List<PreparedLayer> out = PreparedLayer.withReplacedFloatBlocks(layers, newConsumer, affected);
        String note =
                String.format(
                        Locale.ROOT,
                        "SmoothQuant (alpha %.2f): %d LayerNorm(s) migrated into %d Linear layer(s);"
                                + " scales %.3g..%.3g (max|X_j| from a first pass over %d samples)",
                        alpha,
                        groups.size(),
                        affected.size(),
                        smallest,
                        largest,
                        samples);
        return new Result(out, List.copyOf(affected), note);
    }
}
