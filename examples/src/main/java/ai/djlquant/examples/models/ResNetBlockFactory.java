package ai.djlquant.examples.models;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The reference residual network: a Conv-BN-ReLU stem and three residual stages (16, 32, 64
 * channels at 28x28, 14x14, 7x7), then a Linear classifier on the flattened features.
 *
 * <p>Each residual block is a {@link SequentialBlock} of a {@link ParallelBlock} that adds its two
 * branches and a ReLU: the main branch is Conv3x3-BN-ReLU-Conv3x3-BN, the shortcut is the identity
 * or, where the shape changes, a 1x1 Conv (stride 2)-BN projection.
 */
public class ResNetBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /**
     * Builds a new, uninitialised residual network.
     *
     * @return the block
     */
    public static Block build() {
        return new SequentialBlock()
                .add(CnnBlockFactory.convBnRelu(16))
                .add(residual(16, 1, false))
                .add(residual(32, 2, true))
                .add(residual(64, 2, true))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    /**
     * Builds one residual block.
     *
     * @param channels output channels
     * @param stride stride of the first convolution (and of the projection)
     * @param project whether the shortcut is a 1x1 convolution + BatchNorm instead of the identity
     * @return the block: Parallel(main, shortcut) summed, then ReLU
     */
    static Block residual(int channels, int stride, boolean project) {
        SequentialBlock main =
                new SequentialBlock()
                        .add(conv(channels, 3, stride))
                        .add(BatchNorm.builder().build())
                        .add(Activation.reluBlock())
                        .add(conv(channels, 3, 1))
                        .add(BatchNorm.builder().build());
        Block shortcut =
                project
                        ? new SequentialBlock()
                                .add(conv(channels, 1, stride))
                                .add(BatchNorm.builder().build())
                        : Blocks.identityBlock();
        ParallelBlock sum =
                new ParallelBlock(ResNetBlockFactory::add, Arrays.asList(main, shortcut));
        return new SequentialBlock().add(sum).add(Activation.reluBlock());
    }

    private static NDList add(List<NDList> branches) {
        return new NDList(
                branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow()));
    }

    private static Conv2d conv(int channels, int kernel, int stride) {
        int pad = kernel / 2;
        return Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(pad, pad))
                .setFilters(channels)
                .build();
    }

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return build();
    }
}
