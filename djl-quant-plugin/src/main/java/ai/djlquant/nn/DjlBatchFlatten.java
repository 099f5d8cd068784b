package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.training.ParameterStore;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Function;

/**
 * Recognises DJL's {@code Blocks.batchFlattenBlock()}, so that an int8 chain may run it on uint8
 * bytes between its last convolution and its first Linear layer ({@link FlattenStep}).
 *
 * <p>The rule: a block is that flatten if and only if it is exactly a {@link LambdaBlock} named
 * {@code "batchFlatten"} whose function is {@code LambdaBlock.singleton}'s wrapper around a lambda
 * (the method reference {@code Blocks::batchFlatten}) of {@link Blocks} that captures nothing (the
 * other flatten, {@code batchFlattenBlock(size)}, captures its size and reshapes to {@code [-1,
 * size]}, which is not recognised), and running it on a probe {@code [2, 3, 4, 5]} gives {@code
 * [2, 60]} holding the probe's values in row-major (NCHW) order. Anything else ends the chain. The
 * answer is kept per block (weakly).
 */
final class DjlBatchFlatten {

    private static final String NAME = "batchFlatten";

    private static final Map<Block, Boolean> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private DjlBatchFlatten() {}

    /**
     * Returns whether a block is DJL's one-argument batch flatten (see the class rule).
     *
     * @param b a block
     * @return whether it is
     */
    static boolean identify(Block b) {
        if (!(b instanceof LambdaBlock l)
                || l.getClass() != LambdaBlock.class
                || !NAME.equals(l.getName())) {
            return false;
        }
        return KNOWN.computeIfAbsent(b, k -> read(l) && agrees(l));
    }

    private static boolean read(LambdaBlock l) {
        Function<?, ?> inner = LambdaCaptures.singletonFunction(l);
        List<Object> values = inner == null ? null : LambdaCaptures.captured(inner);
        return values != null && values.isEmpty() && LambdaCaptures.isLambdaOf(inner, Blocks.class);
    }

    private static boolean agrees(LambdaBlock l) {
        float[] probe = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = i * 0.5f - 7;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray out =
                    l.forward(
                                    new ParameterStore(m, false),
                                    new NDList(m.create(probe, new Shape(2, 3, 4, 5))),
                                    false)
                            .singletonOrThrow();
            return out.getShape().equals(new Shape(2, 60))
                    && Arrays.equals(probe, out.toFloatArray());
        } catch (RuntimeException e) {
            return false;
        }
    }
}
