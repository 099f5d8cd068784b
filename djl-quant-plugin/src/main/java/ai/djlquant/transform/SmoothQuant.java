package ai.djlquant.transform;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * SmoothQuant (Xiao et al. 2022, "SmoothQuant: Accurate and Efficient Post-Training Quantization
 * for Large Language Models"): the activation outliers of a LayerNorm's output channels migrated
 * into the weights of the Linear layers that read it.
 *
 * <p>For a LayerNorm normalising the last axis whose output is read only by Linear layers (one
 * Linear, or the query, key and value projections of a {@link ScaledDotProductAttentionBlock}
 * used as self-attention: one input for all three, so one common scale), per input channel
 * {@code j} with {@code X_j} the LayerNorm's output channel {@code j} over the calibration data and
 * {@code W_j} column {@code j} of each consumer's weight:
 *
 * <pre>
 * s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)      (max|W_j| over all consumers)
 * gamma_j /= s_j,  beta_j /= s_j                    (the LayerNorm's output channel j / s_j)
 * W[:, j] *= s_j                                    (every consumer)
 * </pre>
 *
 * <p>Exact in real arithmetic: {@code W (x / s) * s = W x} column by column; in float each
 * scaled value is rounded once (tested: outputs within 1e-5 of the largest). Alpha 0.5 (the
 * paper's default) makes both maxima {@code sqrt(max|X_j| max|W_j|)}. A channel with a zero
 * maximum on either side keeps {@code s_j = 1}; so does a non-finite {@code s_j}.
 */
public final class SmoothQuant {

    private SmoothQuant() {}

    /**
     * A LayerNorm and the Linear layers that alone read its output.
     *
     * @param norm the LayerNorm's node
     * @param consumers the Linear nodes (one, or query, key and value)
     */
    public record Group(BlockNode norm, List<BlockNode> consumers) {}

    /**
     * Finds the groups of a tree.
     *
     * @param tree the tree
     * @param layers the Linear layers that may take part (candidates, as in the tree now)
     * @param passThrough blocks that hand their input on unchanged
     * @return the groups, in tree order
     */
    public static List<Group> find(BlockTree tree, Set<Block> layers, Set<Block> passThrough) {
        List<Group> out = new ArrayList<>();
        for (BlockNode node : tree.getNodes()) {
            if (node.getBlock().getClass() != LayerNorm.class || !node.getBlock().isInitialized()) {
                continue;
            }
            LayerNorm norm = (LayerNorm) node.getBlock();
            int[] axes = Reweighting.axesOf(norm);
            int rank = norm.getInputShapes()[0].dimension();
            if (axes.length != 1 || (axes[0] != rank - 1 && axes[0] != -1)) {
                continue; // the per-channel scale must act on the axis the Linear reads
            }
            BlockNode reader = ReluFusion.soleReader(tree, node, passThrough);
            while (reader != null
                    && Structure.isPlainSequential(reader.getBlock())
                    && !reader.getChildren().isEmpty()) {
                reader = reader.getChildren().get(0);
            }
            if (reader == null) {
                continue;
            }
            List<BlockNode> consumers = new ArrayList<>();
            if (reader.getBlock() instanceof Linear && layers.contains(reader.getBlock())) {
                consumers.add(reader);
            } else if (reader.getBlock() instanceof ScaledDotProductAttentionBlock a) {
                for (Linear l : List.of(a.getQueryProjection(), a.getKeyProjection(), a.getValueProjection())) {
                    BlockNode n = nodeOf(tree, reader, l);
                    if (n == null || !layers.contains(l)) {
                        consumers.clear();
                        break; // all three or none: they share the one scaled input
                    }
                    consumers.add(n);
                }
            }
            long gamma = norm.getDirectParameters().get("gamma").getArray().size();
            boolean fits = !consumers.isEmpty();
            for (BlockNode c : consumers) {
                fits &= Reweighting.weightShape(c.getBlock()).get(1) == gamma;
            }
            if (fits) {
                out.add(new Group(node, List.copyOf(consumers)));
            }
        }
        return out;
    }

    private static BlockNode nodeOf(BlockTree tree, BlockNode parent, Block child) {
        for (BlockNode c : parent.getChildren()) {
            if (c.getBlock() == child) {
                return tree.occurrencesOf(child).size() == 1 ? c : null;
            }
        }
        return null;
    }

    /**
     * Computes the scales.
     *
     * @param inputMax max|X_j| per channel, over the calibration data
     * @param consumers the Linear layers (their weights' columns are the channels)
     * @param alpha the migration strength, in (0, 1)
     * @return s_j per channel
     */
    public static double[] scales(double[] inputMax, List<Block> consumers, double alpha) {
        int n = inputMax.length;
        double[] wMax = new double[n];
        for (Block c : consumers) {
            float[] w = Reweighting.weight(c);
            for (int k = 0; k < w.length; k++) {
                int j = k % n;
                wMax[j] = Math.max(wMax[j], Math.abs(w[k]));
            }
        }
        double[] s = new double[n];
        for (int j = 0; j < n; j++) {
            double v = Math.pow(inputMax[j], alpha) / Math.pow(wMax[j], 1 - alpha);
            s[j] = inputMax[j] > 0 && wMax[j] > 0 && Double.isFinite(v) && v > 0 ? v : 1.0;
        }
        return s;
    }

    /**
     * A consumer with its weight columns multiplied by the scales (a new block).
     *
     * @param linear the Linear
     * @param s the scales, one per input column
     * @param manager the manager of the new arrays
     * @return the new block
     */
    public static Block scaledColumns(Block linear, double[] s, NDManager manager) {
        float[] w = Reweighting.weight(linear);
        int n = s.length;
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) (w[k] * s[k % n]);
        }
        return Reweighting.rebuilt(linear, w, Reweighting.bias(linear), manager);
    }
}
