package ai.djlquant;

import ai.djl.nn.Block;
import ai.djlquant.transform.BlockNode;

/**
 * A candidate after folding and fusion: the float block that runs from now on, the BatchNorm
 * folded into it and the ReLU that alone reads its output (each null where there is none).
 *
 * @param candidate the candidate
 * @param floatBlock the candidate's block, or a new block with a BatchNorm folded in
 * @param foldedBatchNorm the node of the BatchNorm folded into it, or null
 * @param relu the node of the ReLU that alone reads its output and can be fused, or null
 */
record PreparedLayer(Candidate candidate, Block floatBlock, BlockNode foldedBatchNorm, BlockNode relu) {

    /** A candidate as it is, nothing folded or fused. */
    static PreparedLayer of(Candidate c) {
        return new PreparedLayer(c, c.block(), null, null);
    }

    /** The same layer with a fusable ReLU. */
    PreparedLayer withRelu(BlockNode reluNode) {
        return new PreparedLayer(candidate, floatBlock, foldedBatchNorm, reluNode);
    }

    /** Whether a ReLU can be fused into its int8 block. */
    boolean hasRelu() {
        return relu != null;
    }

    /** The layer's path. */
    String path() {
        return candidate.path();
    }
}
