package ai.djlquant.transform;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;
import ai.djlquant.kind.LayerKinds;
import ai.djlquant.quant.FusedActivation;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
 * and Bias Correction", section 4.1): the per-channel scale moved between two consecutive layers
 * so that each channel's weight range is shared between them.
 *
 * <p>For a pair {@code layer1 -> f -> layer2} where {@code f} is the identity or ReLU (positively
 * homogeneous: {@code f(x / s) = f(x) / s} for {@code s > 0}), per output channel {@code i} of
 * layer1:
 *
 * <pre>
 * r1_i = max |W1[i, ...]|              (layer1's output channel i)
 * r2_i = max |W2[:, i, ...]|           (layer2's input channel i; a depthwise layer2: W2[i, ...])
 * s_i  = sqrt(r1_i * r2_i) / r2_i      (then both ranges become sqrt(r1_i * r2_i))
 * W1[i, ...] /= s_i,  b1_i /= s_i,  W2[:, i, ...] *= s_i   (depthwise: W2[i, ...] *= s_i)
 * </pre>
 *
 * <p>In exact arithmetic {@code layer2(f(layer1(x)))} is unchanged: layer1's channel {@code i}
 * is divided by {@code s_i}, {@code f} commutes with that, and layer2 multiplies its input
 * channel {@code i} back. In float each scaled weight is rounded once (relative error 2^-24),
 * so the pair's output differs by float rounding (tested: 1e-5 of the largest output). A
 * channel with a zero range on either side keeps {@code s_i = 1}. ReLU6 is not positively
 * homogeneous ({@code relu6(x / s) * s = min(max(x, 0), 6 s)}), so a pair with ReLU6 between is
 * not equalized, nor any other activation.
 *
 * <p>A pair is found only where the structure makes it certain that layer2 alone reads
 * {@code f}'s output and {@code f} alone layer1's ({@link ReluFusion#soleReader}: plain
 * SequentialBlocks, looking through pass-through blocks and into the first child of a nested plain
 * SequentialBlock); both layers are Linear-Linear or convolution-convolution (layer2 ungrouped or
 * depthwise with one filter per channel), and layer1's output channels are layer2's input
 * channels.
 */
public final class CrossLayerEqualization {

    private CrossLayerEqualization() {}

    /**
     * Two consecutive layers that can be equalized.
     *
     * @param first layer1's node
     * @param second layer2's node
     * @param between what sits between them: NONE (identity) or RELU
     * @param activation the node of the ReLU between them, or null
     */
    public record Pair(BlockNode first, BlockNode second, FusedActivation between, BlockNode activation) {}

    /**
     * A layer whose output goes to another layer through something CLE cannot look through.
     *
     * @param first the first layer's node
     * @param reason why the pair is not equalized
     */
    public record Skipped(BlockNode first, String reason) {}

    /**
     * The pairs of a tree.
     *
     * @param pairs the pairs that can be equalized, in tree order
     * @param skipped layers followed by a layer through a block that is not exact to look through
     */
    public record Found(List<Pair> pairs, List<Skipped> skipped) {}

    /**
     * The equalized blocks of a pair and the scales used.
     *
     * @param first layer1 rebuilt
     * @param second layer2 rebuilt
     * @param scales s_i per channel
     */
    public record Equalized(Block first, Block second, double[] scales) {}

    /**
     * Finds the pairs among {@code layers} (each layer in at most one pair as layer1 and one as
     * layer2; a chain a -> b -> c gives the pairs (a, b) and (b, c), equalized in that order).
     *
     * @param tree the tree
     * @param layers the layers that may take part (candidates, as they are in the tree now)
     * @param passThrough blocks that hand their input on unchanged
     * @param manager a manager for the activation probe
     * @return the pairs and what was skipped
     */
    public static Found find(BlockTree tree, Set<Block> layers, Set<Block> passThrough, NDManager manager) {
        List<Pair> pairs = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (BlockNode node : tree.getNodes()) {
            if (!layers.contains(node.getBlock())) {
                continue;
            }
            BlockNode reader = firstLeaf(ReluFusion.soleReader(tree, node, passThrough));
            if (reader == null) {
                continue; // a residual sum, a pool, the model's output: no consecutive layer
            }
            FusedActivation between = FusedActivation.NONE;
            BlockNode act = null;
            BlockNode second = reader;
            if (!layers.contains(reader.getBlock())) {
                Shape out = outputShape(node.getBlock());
                between = out == null ? FusedActivation.NONE : ReluFusion.activationOf(reader.getBlock(), out, manager);
                if (between == FusedActivation.NONE) {
                    continue; // not an activation we know: nothing to say
                }
                act = reader;
                second = firstLeaf(ReluFusion.soleReader(tree, reader, passThrough));
                if (second == null || !layers.contains(second.getBlock())) {
                    continue;
                }
            }
            if (between == FusedActivation.RELU6) {
                skipped.add(new Skipped(node, "ReLU6 between it and " + second.getPath()
                        + " is not positively homogeneous"));
                continue;
            }
            String why = whyNot(node.getBlock(), second.getBlock());
            if (why != null) {
                skipped.add(new Skipped(node, why));
                continue;
            }
            pairs.add(new Pair(node, second, between, act));
        }
        return new Found(List.copyOf(pairs), List.copyOf(skipped));
    }

    /** Descends into the first child of nested plain SequentialBlocks. */
    private static BlockNode firstLeaf(BlockNode node) {
        while (node != null
                && Structure.isPlainSequential(node.getBlock())
                && !node.getChildren().isEmpty()) {
            node = node.getChildren().get(0);
        }
        return node;
    }

    private static Shape outputShape(Block layer) {
        try {
            return layer.getOutputShapes(layer.getInputShapes())[0];
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String whyNot(Block first, Block second) {
        boolean linear = first instanceof Linear && second instanceof Linear;
        boolean conv = first instanceof Convolution && second instanceof Convolution;
        if (!linear && !conv) {
            return "a " + first.getClass().getSimpleName() + " and a " + second.getClass().getSimpleName()
                    + " are not both Linear or both convolutions";
        }
        if (LayerKinds.ofFloat(first) == null || LayerKinds.ofFloat(second) == null) {
            return "one of them is not a layer of a known kind";
        }
        long channels = Reweighting.weightShape(first).get(0);
        if (conv) {
            int groups = ((Convolution) second).getGroups();
            Shape w2 = Reweighting.weightShape(second);
            boolean depthwise = groups > 1 && groups == channels && w2.get(0) == channels && w2.get(1) == 1;
            if (groups != 1 && !depthwise) {
                return "the second is a grouped convolution that is not depthwise";
            }
            if (groups == 1 && w2.get(1) != channels) {
                return "the second takes " + w2.get(1) + " channels, the first gives " + channels;
            }
        } else if (Reweighting.weightShape(second).get(1) != channels) {
            return "the second takes " + Reweighting.weightShape(second).get(1)
                    + " inputs, the first gives " + channels;
        }
        return null;
    }

    /**
     * Equalizes one pair into new blocks (the given blocks are not changed).
     *
     * @param first layer1 (as it is in the tree now)
     * @param second layer2 (as it is in the tree now)
     * @param manager the manager of the new arrays
     * @return the new blocks and the scales
     */
    public static Equalized equalize(Block first, Block second, NDManager manager) {
        float[] w1 = Reweighting.weight(first);
        float[] b1 = Reweighting.bias(first);
        float[] w2 = Reweighting.weight(second);
        Shape s2 = Reweighting.weightShape(second);
        int channels = (int) Reweighting.weightShape(first).get(0);
        int rowLength = w1.length / channels;
        boolean depthwise = second instanceof Convolution c && c.getGroups() > 1;
        // layer2's weight as [outer][channel][inner]: the input channel is axis 1, or axis 0 if depthwise
        int outer = depthwise ? 1 : (int) s2.get(0);
        int inner = (int) (s2.size() / ((long) outer * channels));
        double[] r1 = new double[channels];
        double[] r2 = new double[channels];
        for (int i = 0; i < channels; i++) {
            for (int k = 0; k < rowLength; k++) {
                r1[i] = Math.max(r1[i], Math.abs(w1[i * rowLength + k]));
            }
        }
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < channels; i++) {
                int base = (o * channels + i) * inner;
                for (int k = 0; k < inner; k++) {
                    r2[i] = Math.max(r2[i], Math.abs(w2[base + k]));
                }
            }
        }
        double[] s = new double[channels];
        for (int i = 0; i < channels; i++) {
            s[i] = r1[i] > 0 && r2[i] > 0 ? Math.sqrt(r1[i] * r2[i]) / r2[i] : 1.0;
        }
        for (int i = 0; i < channels; i++) {
            for (int k = 0; k < rowLength; k++) {
                w1[i * rowLength + k] = (float) (w1[i * rowLength + k] / s[i]);
            }
            if (b1 != null) {
                b1[i] = (float) (b1[i] / s[i]);
            }
        }
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < channels; i++) {
                int base = (o * channels + i) * inner;
                for (int k = 0; k < inner; k++) {
                    w2[base + k] = (float) (w2[base + k] * s[i]);
                }
            }
        }
        Block newFirst = Reweighting.rebuilt(first, w1, b1, manager);
        Block newSecond = Reweighting.rebuilt(second, w2, Reweighting.bias(second), manager);
        return new Equalized(newFirst, newSecond, s);
    }
}
