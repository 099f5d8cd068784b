package ai.djlquant.cli;

import ai.djl.Model;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;

import java.nio.file.Path;
import java.util.Map;

/** A model that does not take images, for eval and bench on tensor inputs: 16 -> 48 -> 4. */
public class TinyMlpFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(48).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(4).build());
    }
}
