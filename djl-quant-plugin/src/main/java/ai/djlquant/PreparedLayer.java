package ai.djlquant;

import ai.djlquant.quant.FusedActivation;
import ai.djl.nn.Block;
import ai.djlquant.transform.BlockNode;

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

    /** Whether a ReLU or ReLU6 can be fused into its int8 block. */
    boolean hasRelu() {
        return relu != null;
    }

    /** The layer's path. */
    String path() {
        return candidate.path();
    }
}
