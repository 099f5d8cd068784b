package ai.djlquant.transform;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.lang.reflect.Method;

/** What the tree's structure says about data flow, where DJL's own code makes it certain. */
final class Structure {

    private Structure() {}

    /**
     * Whether {@code block} is a SequentialBlock that runs its children one after the other with
     * DJL's own forward and returns only the last output: then child {@code i}'s output is read by
     * child {@code i + 1} alone (or, for the last child, by whoever reads the block's output).
     */
    static boolean isPlainSequential(Block block) {
        if (!(block instanceof SequentialBlock)
                || ((SequentialBlock) block).isReturnIntermediate()) {
            return false;
        }
        for (Class<?> c = block.getClass(); c != SequentialBlock.class; c = c.getSuperclass()) {
            if (declaresForward(c)) {
                return false; // a subclass with its own forward may read children differently
            }
        }
        return true;
    }

    private static boolean declaresForward(Class<?> c) {
        for (Method m : c.getDeclaredMethods()) {
            if (m.getName().equals("forwardInternal")) {
                Class<?>[] p = m.getParameterTypes();
                if (p.length == 4
                        && p[0] == ParameterStore.class
                        && p[1] == NDList.class
                        && (p[2] == boolean.class || p[2] == NDList.class)
                        && p[3] == PairList.class) {
                    return true;
                }
            }
        }
        return false;
    }
}
