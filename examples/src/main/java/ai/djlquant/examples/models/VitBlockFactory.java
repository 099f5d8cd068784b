package ai.djlquant.examples.models;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The reference vision transformer: 4x4 patches embedded by a strided convolution, a learned
 * position embedding, pre-norm encoder layers, mean pooling over the tokens and a Linear head.
 *
 * <pre>
 * (N,1,28,28)  conv4x4 stride 4, 64 filters       -&gt; (N,64,7,7)
 *              flatten the grid, tokens first     -&gt; (N,49,64)
 *              + position embedding (49,64)
 *              4 x encoder layer (below)          -&gt; (N,49,64)
 *              LayerNorm, mean over tokens        -&gt; (N,64)
 *              Linear 10                          -&gt; (N,10) logits
 * </pre>
 *
 * <p>Each encoder layer is two residual sums, pre-norm as in ViT:
 *
 * <pre>
 * x = x + Attention(LayerNorm(x))                  4 heads of 16, DJL's ScaledDotProductAttentionBlock
 * x = x + Linear 64(GELU(Linear 128(LayerNorm(x))))
 * </pre>
 *
 * <p>The residual sums are {@link ParallelBlock}s over the branch and the identity, as in the
 * residual network, so every Linear is a block the quantizer sees: the attention block's four
 * projections and the two of each feed-forward branch.
 */
public class VitBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    private static final int PATCH = 4;
    private static final int GRID = 28 / PATCH;
    private static final int EMBEDDING = 64;
    private static final int HEADS = 4;
    private static final int HIDDEN = 128;
    private static final int LAYERS = 4;

    /**
     * Builds a new, uninitialised transformer.
     *
     * @return the block
     */
    public static Block build() {
        SequentialBlock net =
                new SequentialBlock()
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(PATCH, PATCH))
                                        .optStride(new Shape(PATCH, PATCH))
                                        .setFilters(EMBEDDING)
                                        .build())
                        .add(LambdaBlock.singleton(VitBlockFactory::tokens, "tokens"))
                        .add(new PositionEmbedding(GRID * GRID, EMBEDDING));
        for (int i = 0; i < LAYERS; i++) {
            net.add(residual(attention())).add(residual(feedForward()));
        }
        return net.add(layerNorm())
                .add(LambdaBlock.singleton(x -> x.mean(new int[] {1}), "meanOverTokens"))
                .add(Linear.builder().setUnits(10).build());
    }

    /** (N, E, H, W) -> (N, H*W, E): the grid flattened row by row, one token per patch. */
    private static NDArray tokens(NDArray grid) {
        Shape s = grid.getShape();
        return grid.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    private static Block attention() {
        return new SequentialBlock()
                .add(layerNorm())
                .add(
                        ScaledDotProductAttentionBlock.builder()
                                .setEmbeddingSize(EMBEDDING)
                                .setHeadCount(HEADS)
                                .optAttentionProbsDropoutProb(0f)
                                .build());
    }

    private static Block feedForward() {
        return new SequentialBlock()
                .add(layerNorm())
                .add(Linear.builder().setUnits(HIDDEN).build())
                .add(Activation.geluBlock())
                .add(Linear.builder().setUnits(EMBEDDING).build());
    }

    private static Block layerNorm() {
        return LayerNorm.builder().axis(2).build();
    }

    private static Block residual(Block branch) {
        return new ParallelBlock(
                VitBlockFactory::add, Arrays.asList(branch, Blocks.identityBlock()));
    }

    private static NDList add(List<NDList> branches) {
        return new NDList(
                branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow()));
    }

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return build();
    }
}
