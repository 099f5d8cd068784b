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
import ai.djl.nn.pooling.Pool;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The reference MobileNetV2-style network: inverted residual blocks (1x1 expansion, depthwise 3x3,
 * linear 1x1 bottleneck) with ReLU6, sized for 28x28 images.
 *
 * <pre>
 * (N,1,28,28)  conv3x3 16, BN, ReLU6                      -&gt; (N,16,28,28)
 *              inverted residual t=1 c=16 n=1 s=1         -&gt; (N,16,28,28)
 *              inverted residual t=6 c=24 n=2 s=2         -&gt; (N,24,14,14)
 *              inverted residual t=6 c=32 n=3 s=2         -&gt; (N,32,7,7)
 *              inverted residual t=6 c=64 n=2 s=1         -&gt; (N,64,7,7)
 *              conv1x1 256, BN, ReLU6, global average pool -&gt; (N,256)
 *              Linear 10                                  -&gt; (N,10) logits
 * </pre>
 *
 * <p>An inverted residual block with expansion t maps c_in channels to c_out: conv1x1 to t*c_in
 * channels, BN, ReLU6 (left out when t = 1); depthwise conv3x3 (groups = t*c_in) with the block's
 * stride, BN, ReLU6; conv1x1 to c_out, BN, and no activation (the linear bottleneck). Where the
 * stride is 1 and c_in = c_out, a {@link ParallelBlock} adds the input back (no activation after
 * the sum). Of a stage's n blocks only the first has stride s.
 */
public class MobileNetBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** Expansion, output channels, blocks, first stride: MobileNetV2's table, narrowed. */
    private static final int[][] STAGES = {
        {1, 16, 1, 1},
        {6, 24, 2, 2},
        {6, 32, 3, 2},
        {6, 64, 2, 1},
    };

    private static final int STEM = 16;
    private static final int HEAD = 256;

    /**
     * Builds a new, uninitialised network.
     *
     * @return the block
     */
    public static Block build() {
        SequentialBlock net = new SequentialBlock().add(convBnRelu6(STEM, 3, 1, 1));
        int in = STEM;
        for (int[] stage : STAGES) {
            for (int i = 0; i < stage[2]; i++) {
                net.add(invertedResidual(in, stage[1], stage[0], i == 0 ? stage[3] : 1));
                in = stage[1];
            }
        }
        return net.add(convBnRelu6(HEAD, 1, 1, 1))
                .add(Pool.globalAvgPool2dBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    /**
     * Builds one inverted residual block.
     *
     * @param in input channels
     * @param out output channels
     * @param expansion expansion factor t
     * @param stride stride of the depthwise convolution
     * @return the block
     */
    static Block invertedResidual(int in, int out, int expansion, int stride) {
        int hidden = in * expansion;
        SequentialBlock main = new SequentialBlock();
        if (expansion != 1) {
            main.add(convBnRelu6(hidden, 1, 1, 1));
        }
        main.add(convBnRelu6(hidden, 3, stride, hidden))
                .add(conv(out, 1, 1, 1))
                .add(BatchNorm.builder().build());
        if (stride != 1 || in != out) {
            return main;
        }
        return new ParallelBlock(
                MobileNetBlockFactory::add, Arrays.asList(main, Blocks.identityBlock()));
    }

    private static NDList add(List<NDList> branches) {
        return new NDList(
                branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow()));
    }

    private static SequentialBlock convBnRelu6(int channels, int kernel, int stride, int groups) {
        return new SequentialBlock()
                .add(conv(channels, kernel, stride, groups))
                .add(BatchNorm.builder().build())
                .add(Activation.relu6Block());
    }

    private static Conv2d conv(int channels, int kernel, int stride, int groups) {
        int pad = kernel / 2;
        return Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(pad, pad))
                .optGroups(groups)
                .setFilters(channels)
                .optBias(false)
                .build();
    }

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
        return build();
    }
}
