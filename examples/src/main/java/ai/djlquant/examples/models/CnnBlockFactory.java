package ai.djlquant.examples.models;

import ai.djl.Model;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;

import java.nio.file.Path;
import java.util.Map;

/**
 * The reference CNN: two Conv2d-BatchNorm-ReLU blocks, each followed by 2x2 max pooling, and a
 * two-layer Linear head.
 *
 * <pre>
 * (N,1,28,28) conv3x3 32, BN, ReLU, maxpool 2    -&gt; (N,32,14,14)
 *             conv3x3 64, BN, ReLU, maxpool 2    -&gt; (N,64,7,7)
 *             flatten, Linear 128, ReLU, Linear 10 -&gt; (N,10) logits
 * </pre>
 */
public class CnnBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /**
     * Builds a new, uninitialised CNN.
     *
     * @return the block
     */
    public static Block build() {
        return new SequentialBlock()
                .add(convBnRelu(32))
                .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(convBnRelu(64))
                .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(128).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    static SequentialBlock convBnRelu(int channels) {
        return new SequentialBlock()
                .add(
                        Conv2d.builder()
                                .setKernelShape(new Shape(3, 3))
                                .optPadding(new Shape(1, 1))
                                .setFilters(channels)
                                .build())
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock());
    }

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return build();
    }
}
