package ai.djlquant.torchscript;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djlquant.annotations.Internal;

/**
 * A straight chain of module calls of an imported forward ({@code bn1(conv1(x))}, a {@code
 * torch.nn.Sequential}), as a plain {@link SequentialBlock} whose children keep their TorchScript
 * names. It adds no forward of its own, so BatchNorm folding and ReLU fusion, which only look
 * inside plain SequentialBlocks, see a convolution followed by its BatchNorm and ReLU as in a
 * native DJL model.
 */
@Internal
public final class ScriptSequence extends SequentialBlock {

    /** Creates an empty chain. */
    ScriptSequence() {}

    /**
     * Appends a child under its TorchScript name.
     *
     * @param name the name
     * @param block the child
     */
    void add(String name, Block block) {
        children.add(name, block); // the TorchScript name, without addChildBlock's "01" prefix
    }
}
