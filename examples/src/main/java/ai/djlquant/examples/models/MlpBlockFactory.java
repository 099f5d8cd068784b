package ai.djlquant.examples.models;

import ai.djl.Model;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;

import java.nio.file.Path;
import java.util.Map;

/** The reference MLP: flatten, Linear 256, ReLU, Linear 128, ReLU, Linear 10. */
public class MlpBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /**
     * Builds a new, uninitialised MLP.
     *
     * @return the block
     */
    public static Block build() {
        return new SequentialBlock()
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(256).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(128).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return build();
    }
}
