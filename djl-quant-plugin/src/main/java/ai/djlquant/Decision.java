package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.observe.Observer;
import ai.djlquant.plan.ModeDecision;
import ai.djlquant.plan.ModeChooser;
import ai.djlquant.plan.ModeRules;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.plan.SpeedRule;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SqnrMeter;
import ai.djlquant.quant.Granularity;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.util.ArrayList;
import java.util.List;

/**
 * The decide step: for each observed layer, the static activation parameters from its observer,
 * its static and dynamic int8 blocks, their output SQNR against the fp32 layer on the layer's kept
 * calibration inputs (only this layer quantized), and the mode the {@link ModeChooser} chooses
 * from them; then, under an objective that asks for speed, the {@link SpeedRule} times the chosen
 * int8 block against the fp32 block at every serving batch size on inputs made from the same
 * kept rows ({@link SideBySideTimer}) and keeps it or turns it down. The block of the chosen mode
 * is kept; the other is freed at once. A layer whose rule forces STATIC or DYNAMIC gets only that
 * block built and measured (the other's SQNR is NaN, "not measured") and is not timed; AUTO
 * builds and measures both.
 *
 * <p>Each int8 block takes and gives fp32, so a layer timed alone is timed as it runs in the
 * model (the quantize and dequantize passes included).
 */
final class Decision {

    /** The candidates' SQNRs, and why they could not be measured (null if they could). */
    private record Measured(
            double staticDb, double dynamicDb, long samples, String unmeasured, KeptInputScreen screen) {}

    private final ModelEdit edit;
    private final QuantizationConfig config;
    private final ModeChooser chooser;
    private final int activationBits;
    private final NDManager samples;
    private final StepHooks hooks;
    private final SpeedRule speedRule;
    private final List<Integer> servingBatchSizes;
    private final SideBySideTimer timer = SideBySideTimer.forLayers();

    Decision(
            ModelEdit edit,
            QuantizationConfig config,
            ModeChooser chooser,
            int activationBits,
            NDManager samples,
            List<Integer> servingBatchSizes,
            StepHooks hooks) {
        this.edit = edit;
        this.config = config;
        this.chooser = chooser;
        this.activationBits = activationBits;
        this.samples = samples;
        this.servingBatchSizes = servingBatchSizes;
        this.hooks = hooks;
        this.speedRule = new SpeedRule(config.getObjective());
    }

    /**
     * Decides every layer, one at a time (a layer's kept inputs are freed before the next one's
     * are used, to bound the memory).
     *
     * @param layers the layers after calibration
     * @return the decided layers, in the same order
     */
    List<DecidedLayer> decideAll(List<ObservedLayer> layers) {
        List<DecidedLayer> out = new ArrayList<>(layers.size());
        ProgressSink bar = new ProgressSink(config.getProgress(), "Planning", layers.size());
        try {
            for (ObservedLayer o : layers) {
                if (!o.isObserved()) {
                    out.add(unobserved(o));
                } else {
                    try {
                        out.add(decide(o));
                    } finally {
                        o.recorder().closeSamples();
                    }
                }
                bar.advance(1);
            }
        } finally {
            bar.end();
        }
        return out;
    }

    private DecidedLayer unobserved(ObservedLayer o) {
        Candidate c = o.layer().candidate();
        ModeDecision d =
                c.choice().mode() == QuantizationMode.FP32
                        ? chooser.decide(c.choice(), Double.NaN, Double.NaN, o.notObserved())
                        : new ModeDecision(QuantizationMode.FP32, o.notObserved(), Double.NaN, Double.NaN);
        return new DecidedLayer(o, d, null, o.layer().floatBlock(), null, 0, KeptInputScreen.NONE, null);
    }

    private DecidedLayer decide(ObservedLayer o) {
        PreparedLayer layer = o.layer();
        CalibrationStatistics stats = o.recorder().statistics();
        if (stats.unsupportedInput() != null) {
            ModeDecision d =
                    new ModeDecision(
                            QuantizationMode.FP32, stats.unsupportedInput(), Double.NaN, Double.NaN);
            return new DecidedLayer(o, d, null, layer.floatBlock(), stats, 0, KeptInputScreen.NONE, null);
        }
        Observer obs = stats.activation();
        String unmeasured = null;
        if (stats.calls() == 0) {
            unmeasured = "no calibration batch reached it";
        } else if (obs.isEmpty()) {
            unmeasured = "its calibration inputs held no finite value";
        }
        LayerKind kind = layer.candidate().kind();
        boolean perTensor = config.getWeightGranularity() == Granularity.PER_TENSOR;
        // a mode forced by a rule needs only its own candidate; AUTO compares both
        QuantizationMode rule = layer.candidate().choice().mode();
        QuantParams activation = null;
        Block staticBlock = null;
        if (!obs.isEmpty() && rule != QuantizationMode.DYNAMIC) {
            QuantScheme scheme = QuantScheme.uint8Activation(activationBits);
            activation = config.getRangeEstimator().estimate(obs, scheme);
            staticBlock =
                    edit.built(kind.quantize(layer.floatBlock(), activation, layer.hasRelu(), perTensor));
            hooks.reached("build static " + layer.candidate().path());
        }
        Block dynamicBlock = null;
        if (rule != QuantizationMode.STATIC) {
            dynamicBlock =
                    edit.built(kind.quantize(layer.floatBlock(), null, layer.hasRelu(), perTensor));
            hooks.reached("build dynamic " + layer.candidate().path());
        }
        List<NDArray> batches = new ArrayList<>();
        KeptInputScreen screen = KeptInputScreen.screen(o.recorder().takeKeptBatches(), batches);
        ModeDecision d;
        ModeDecision byAccuracy;
        long rows;
        try {
            Measured m = measure(o, batches, screen, staticBlock, dynamicBlock);
            rows = m.samples();
            if (m.unmeasured() != null) {
                unmeasured = m.unmeasured();
            }
            ModeRules.Choice choice = layer.candidate().choice();
            byAccuracy = chooser.decide(choice, m.staticDb(), m.dynamicDb(), unmeasured);
            // static turned down for speed may give way to dynamic if that is accurate enough
            QuantizationMode alternative =
                    byAccuracy.mode() == QuantizationMode.STATIC
                                    && dynamicBlock != null
                                    && m.dynamicDb() >= chooser.getFloorDb()
                            ? QuantizationMode.DYNAMIC
                            : null;
            Block s = staticBlock;
            Block dyn = dynamicBlock;
            d =
                    speedRule.apply(
                            choice,
                            byAccuracy,
                            alternative,
                            mode -> time(o, batches, mode == QuantizationMode.STATIC ? s : dyn));
        } finally {
            for (NDArray b : batches) {
                b.close();
            }
        }
        Block chosen =
                switch (d.mode()) {
                    case STATIC -> staticBlock;
                    case DYNAMIC -> dynamicBlock;
                    default -> layer.floatBlock();
                };
        // the block the accuracy rule chose but speed turned down waits for the plan check
        DecidedLayer.TurnedDown turnedDown = null;
        if (d.mode() != byAccuracy.mode()) {
            Block wanted = byAccuracy.mode() == QuantizationMode.STATIC ? staticBlock : dynamicBlock;
            turnedDown = new DecidedLayer.TurnedDown(wanted, byAccuracy.with(byAccuracy.mode(), byAccuracy.reason(), d.speeds()));
        }
        Block kept = turnedDown == null ? null : turnedDown.block();
        if (chosen != staticBlock && kept != staticBlock) {
            ModelEdit.release(staticBlock);
        }
        if (chosen != dynamicBlock && kept != dynamicBlock) {
            ModelEdit.release(dynamicBlock);
        }
        return new DecidedLayer(o, d, activation, chosen, stats, rows, screen, turnedDown);
    }

    /**
     * Measures the int8 blocks built (null: not built, its SQNR NaN) on the kept calibration
     * batches as they came: a dynamic layer's parameters come from the whole input of a call, so
     * its measurement holds for serving batches up to the calibration batch size (smaller batches
     * have narrower ranges), and a static layer's does not depend on it.
     */
    private Measured measure(
            ObservedLayer o,
            List<NDArray> batches,
            KeptInputScreen screen,
            Block staticBlock,
            Block dynamicBlock) {
        long rows = 0;
        for (NDArray b : batches) {
            rows += b.getShape().get(0);
        }
        if (batches.isEmpty()) {
            String why =
                    screen.nonFiniteBatches() > 0
                            ? "every kept calibration input held NaN or infinite values"
                            : null;
            return new Measured(Double.NaN, Double.NaN, 0, why, screen);
        }
        Block floatBlock = o.layer().floatBlock();
        boolean relu = o.layer().hasRelu();
        SqnrMeter stat = new SqnrMeter();
        SqnrMeter dyn = new SqnrMeter();
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.tempAttach(step);
                    NDArray ref = run(floatBlock, store, x);
                    if (relu) {
                        ref = Activation.relu(ref);
                    }
                    if (staticBlock != null) {
                        stat.add(ref, run(staticBlock, store, x));
                    }
                    if (dynamicBlock != null) {
                        dyn.add(ref, run(dynamicBlock, store, x));
                    }
                }
            }
        }
        String unmeasured =
                stat.isNonFinite() || dyn.isNonFinite()
                        ? "its fp32 output or an int8 output held NaN or infinite values"
                        : null;
        return new Measured(stat.decibels(), dyn.decibels(), rows, unmeasured, screen);
    }

    /**
     * Times the layer's int8 block against its fp32 block (with its ReLU, where the int8 block
     * fuses it) at every serving batch size, on inputs made from its kept calibration rows.
     */
    private List<SpeedComparison> time(ObservedLayer o, List<NDArray> batches, Block int8) {
        if (batches.isEmpty() || int8 == null) {
            return List.of();
        }
        Block floatBlock = o.layer().floatBlock();
        boolean relu = o.layer().hasRelu();
        List<SpeedComparison> out = new ArrayList<>(servingBatchSizes.size());
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            NDArray all = ServingBatches.join(batches);
            if (!isOneOf(all, batches)) {
                all.attach(scope); // made here: freed with the scope
            }
            for (int n : servingBatchSizes) {
                NDArray x = ServingBatches.rows(all, n);
                if (x == all || isOneOf(x, batches)) {
                    x.tempAttach(scope);
                } else {
                    x.attach(scope);
                }
                NDList in = new NDList(x);
                out.add(
                        timer.compare(
                                n,
                                () -> SideBySideTimer.inScope(scope, in, () -> {
                                    NDArray y = run(floatBlock, store, x);
                                    if (relu) {
                                        Activation.relu(y);
                                    }
                                }),
                                () -> SideBySideTimer.forward(int8, store, scope, in),
                                int8.getClass().getName()
                                        + (((QuantizedBlock) int8).isDynamic() ? " dynamic" : " static")));
            }
        }
        hooks.reached("time " + o.layer().candidate().path());
        return out;
    }

    /** Identity, not NDArray.equals (which compares contents). */
    private static boolean isOneOf(NDArray x, List<NDArray> list) {
        for (NDArray a : list) {
            if (a == x) {
                return true;
            }
        }
        return false;
    }

    private static NDArray run(Block b, ParameterStore store, NDArray x) {
        return b.forward(store, new NDList(x), false).singletonOrThrow();
    }
}
