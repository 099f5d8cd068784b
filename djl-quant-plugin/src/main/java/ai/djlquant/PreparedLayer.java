package ai.djlquant;

import ai.djl.nn.Block;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.transform.BlockNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A candidate after folding and fusion: the float block that runs from now on, the BatchNorm
 * folded into it and the ReLU or ReLU6 that alone reads its output (each null where there is
 * none) with the activation the int8 block would apply in its place.
 *
 * @param candidate the candidate
 * @param floatBlock the candidate's block, or a new block with a BatchNorm folded in
 * @param foldedBatchNorm the node of the BatchNorm folded into it, or null
 * @param relu the node of the ReLU or ReLU6 that alone reads its output and can be fused, or null
 * @param activation what that node computes (NONE where there is none)
 */
record PreparedLayer(
        Candidate candidate,
        Block floatBlock,
        BlockNode foldedBatchNorm,
        BlockNode relu,
        FusedActivation activation) {

    /** A candidate as it is, nothing folded or fused. */
    static PreparedLayer of(Candidate c) {
        return new PreparedLayer(c, c.block(), null, null, FusedActivation.NONE);
    }

    /** The same layer with a fusable ReLU or ReLU6. */
    PreparedLayer withRelu(BlockNode reluNode, FusedActivation act) {
        return new PreparedLayer(candidate, floatBlock, foldedBatchNorm, reluNode, act);
    }

    /**
     * The layers with each float block that a reweighting step replaced swapped for its
     * replacement; the paths of the layers swapped are added to {@code affected}.
     */
    static List<PreparedLayer> withReplacedFloatBlocks(
            List<PreparedLayer> layers, Map<Block, Block> replacements, List<String> affected) {
        List<PreparedLayer> out = new ArrayList<>(layers.size());
        for (PreparedLayer p : layers) {
            Block now = replacements.get(p.floatBlock());
            if (now == null) {
                out.add(p);
            } else {
                out.add(new PreparedLayer(p.candidate, now, p.foldedBatchNorm, p.relu, p.activation));
                affected.add(p.path());
            }
        }
        return out;
    }

    /** Whether a ReLU or ReLU6 can be fused into its int8 block. */
    boolean hasRelu() {
        return relu != null;
    }

    /** The layer's path. */
    String path() {
        return candidate.path();
    }
}
