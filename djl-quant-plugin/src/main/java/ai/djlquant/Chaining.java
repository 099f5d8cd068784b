package ai.djlquant;

import ai.djl.nn.SequentialBlock;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.transform.ChainTargets;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;

/**
 * The int8 chains step ({@link QuantizationConfig.Builder#optInt8Chains}), after every other: each
 * {@link SequentialBlock} of the converted tree whose children hold runs of int8 Linear or Conv2d
 * layers ({@link ChainedSequentialBlock#findRuns}) is replaced by a {@link ChainedSequentialBlock}
 * with the same children. A block of any other type is left alone, so a chain never crosses a
 * parent that is not a SequentialBlock.
 *
 * <p>Innermost blocks first, so that an outer block takes the chained inner one as its child; all
 * or nothing: if one replacement cannot be made (a field or container that cannot take the new
 * block), those made are taken back, the model runs unchained, and the report says why.
 */
final class Chaining {

    private Chaining() {}

    /**
     * What the step did.
     *
     * @param chains one line per chain formed: the paths of its layers
     * @param note why no chain was formed although some could be, or null
     */
    record Result(List<String> chains, String note) {

        static Result off() {
            return new Result(List.of(), null);
        }
    }

    /**
     * Forms the chains of the edit's current tree.
     *
     * @param edit the edit (the replacements go through its log)
     * @return the chains formed
     */
    static Result form(ModelEdit edit) {
        List<ChainTargets.Target> targets = ChainTargets.find(edit.currentTree());
        if (targets.isEmpty()) {
            return Result.off();
        }
        List<String> lines = ChainTargets.names(targets);
        List<Replacement> steps = new ArrayList<>();
        for (ChainTargets.Target t : targets) {
            steps.add(t.replacement());
        }
        try {
            edit.applyAllOrNone(steps);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return new Result(
                    List.of(),
                    "int8 chains not formed (the model runs unchained): " + e.getMessage());
        }
        return new Result(List.copyOf(lines), null);
    }
}
