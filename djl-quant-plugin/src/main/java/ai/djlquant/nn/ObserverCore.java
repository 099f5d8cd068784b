package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;

import java.util.Map;
import java.util.Objects;

/**
 * What the three observer blocks share: the float block and the tap, the forward between the tap's
 * calls, the float block's parameters put in place of the wrapper's own, and the description. The
 * wrappers subclass different DJL types ({@link ObservedBlock} says why), so they hold one of these
 * instead of sharing a base class.
 */
final class ObserverCore {

    private final Block floatBlock;
    private final ForwardTap tap;

    /**
     * Takes the float block's own {@code Parameter} objects into {@code wrapperParameters} (same
     * names, same order), in place of the ones the wrapper's DJL constructor made.
     *
     * @throws NullPointerException if {@code tap} is null
     */
    ObserverCore(Block floatBlock, ForwardTap tap, Map<String, Parameter> wrapperParameters) {
        this.floatBlock = floatBlock;
        this.tap = Objects.requireNonNull(tap, "tap");
        wrapperParameters.clear();
        for (Pair<String, Parameter> p : floatBlock.getDirectParameters()) {
            wrapperParameters.put(p.getKey(), p.getValue());
        }
    }

    Block floatBlock() {
        return floatBlock;
    }

    ForwardTap tap() {
        return tap;
    }

    /** The wrapper's forward: the float block's, between the tap's two calls. */
    NDList forward(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return ObservedBlock.forwardThrough(floatBlock, tap, store, inputs, training, params);
    }

    /** The wrapper's {@code toString}. */
    String describe() {
        return "Observed(" + floatBlock + ")";
    }
}
