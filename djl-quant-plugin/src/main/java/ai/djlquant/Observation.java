package ai.djlquant;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The observe step (PyTorch's prepare): every layer that may become int8 is wrapped by its kind's
 * observer block, which reports each forward to a {@link CalibrationRecorder}.
 */
final class Observation {

    private Observation() {}

    /**
     * Puts an observer around every prepared layer whose rule is not FP32.
     *
     * @param edit the model's edit
     * @param layers the prepared layers
     * @param config the configuration (observer, sample budget, seed)
     * @param tracker the tracker the recorders report to
     * @param samples the manager of the kept input samples
     * @return the layers, observed or with the reason they are not
     */
    static List<ObservedLayer> insert(
            ModelEdit edit,
            List<PreparedLayer> layers,
            QuantizationConfig config,
            ForwardTracker tracker,
            NDManager samples) {
        BlockTree tree = edit.currentTree();
        List<ObservedLayer> wanted = new ArrayList<>();
        List<Replacement> replacements = new ArrayList<>();
        for (PreparedLayer layer : layers) {
            if (layer.candidate().choice().mode() == QuantizationMode.FP32) {
                wanted.add(new ObservedLayer(layer, null, null, "its rule says FP32"));
                continue;
            }
            Block f = layer.floatBlock();
            ForwardTracker.Layer named =
                    new ForwardTracker.Layer(layer.path(), layer.candidate().type(), f.getInputShapes());
            CalibrationRecorder recorder =
                    new CalibrationRecorder(
                            named,
                            config.newActivationObserver(),
                            tracker,
                            samples,
                            config.getPlanSampleBytes(),
                            config.getPlanMaxSamples(),
                            config.getSeed());
            ObservedBlock wrapper = layer.candidate().kind().observe(f, recorder);
            replacements.add(new Replacement(f, wrapper));
            wanted.add(new ObservedLayer(layer, wrapper, recorder, null));
        }
        Map<Block, String> problems = edit.check(tree, replacements);
        List<Replacement> possible = new ArrayList<>();
        List<ObservedLayer> out = new ArrayList<>();
        for (ObservedLayer o : wanted) {
            String problem = o.isObserved() ? problems.get(o.layer().floatBlock()) : null;
            if (problem != null) {
                out.add(new ObservedLayer(o.layer(), null, null, "it cannot be replaced in the tree: " + problem));
            } else {
                if (o.isObserved()) {
                    possible.add(new Replacement(o.layer().floatBlock(), o.wrapper()));
                }
                out.add(o);
            }
        }
        edit.apply(tree, possible);
        return out;
    }
}
