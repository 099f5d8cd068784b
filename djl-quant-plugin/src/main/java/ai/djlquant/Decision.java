package ai.djlquant;

import ai.djlquant.quant.FusedActivation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.WeightOnlyBlock;
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
    private final boolean biasCorrection;
    private final List<Integer> servingBatchSizes;
    private final SideBySideTimer timer = SideBySideTimer.forLayers();
    private final java.util.Map<String, BiasCorrection.Outcome> biasCorrections =
            new java.util.LinkedHashMap<>();

    Decision(
            ModelEdit edit,
            QuantizationConfig config,
            ModeChooser chooser,
            int activationBits,
            NDManager samples,
            List<Integer> servingBatchSizes,
            StepHooks hooks,
            boolean biasCorrection) {
        this.biasCorrection = biasCorrection;
        this.edit = edit;
        this.config = config;
        this.chooser = chooser;
        this.activationBits = activationBits;
        this.samples = samples;
        this.servingBatchSizes = servingBatchSizes;
        this.hooks = hooks;
        this.speedRule = new SpeedRule(config.getObjective());
    }

    /** The bias corrections made (with bias correction on), by layer path, in tree order. */
    java.util.Map<String, BiasCorrection.Outcome> biasCorrections() {
        return java.util.Collections.unmodifiableMap(biasCorrections);
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
        if (rule.isWeightOnly()) {
            return weightOnlyByRule(o, stats, rule);
        }
        QuantParams activation = null;
        Block staticBlock = null;
        if (!obs.isEmpty() && rule != QuantizationMode.DYNAMIC) {
            QuantScheme scheme = QuantScheme.uint8Activation(activationBits);
            activation = config.getRangeEstimator().estimate(obs, scheme);
            staticBlock =
                    edit.built(kind.quantize(layer.floatBlock(), activation, layer.activation(), perTensor));
            hooks.reached("build static " + layer.candidate().path());
        }
        Block dynamicBlock = null;
        if (rule != QuantizationMode.STATIC) {
            dynamicBlock =
                    edit.built(kind.quantize(layer.floatBlock(), null, layer.activation(), perTensor));
            hooks.reached("build dynamic " + layer.candidate().path());
        }
        List<NDArray> batches = new ArrayList<>();
        KeptInputScreen screen = KeptInputScreen.screen(o.recorder().takeKeptBatches(), batches);
        ModeDecision d;
        ModeDecision byAccuracy;
        Block weightOnlyBlock = null;
        long rows;
        try {
            BiasCorrection.Outcome bc = null;
            if (biasCorrection && staticBlock != null && !batches.isEmpty()) {
                bc = BiasCorrection.correct(
                        edit, layer, activation, perTensor, staticBlock, batches, samples);
                staticBlock = bc.block();
                biasCorrections.put(layer.path(), bc);
                hooks.reached("bias correction " + layer.candidate().path());
            }
            Measured m = measure(o, batches, screen, staticBlock, dynamicBlock);
            rows = m.samples();
            if (m.unmeasured() != null) {
                unmeasured = m.unmeasured();
            }
            // the mode is chosen on the uncorrected SQNR, so bias correction refines the plan
            // the layer would get without it and never changes it (the whole-model gate then
            // compares like with like: the same plan, corrected or not)
            double staticDb = bc != null ? bc.beforeDb() : m.staticDb();
            ModeRules.Choice choice = layer.candidate().choice();
            byAccuracy = chooser.decide(choice, staticDb, m.dynamicDb(), unmeasured);
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
                            mode -> time(o, batches, mode == QuantizationMode.STATIC ? s : dyn, true));
            QuantizationMode offered = config.getAutoWeightOnly();
            if (offered != null
                    && rule == QuantizationMode.AUTO
                    && kind.weightOnlyType() != null
                    && speedRule.getObjective().timesLayers()) {
                WeightOnlyTrial t = tryWeightOnly(o, batches, offered, d);
                d = t.decision(); // the weight-only SQNR is kept even where it lost
                weightOnlyBlock = t.block();
            }
        } finally {
            for (NDArray b : batches) {
                b.close();
            }
        }
        Block chosen =
                d.mode().isWeightOnly()
                        ? weightOnlyBlock
                        : switch (d.mode()) {
                            case STATIC -> staticBlock;
                            case DYNAMIC -> dynamicBlock;
                            default -> layer.floatBlock();
                        };
        // the block the accuracy rule chose but speed turned down waits for the plan check
        // (a weight-only block measured faster replaces it: nothing waits)
        DecidedLayer.TurnedDown turnedDown = null;
        if (d.mode() != byAccuracy.mode() && !d.mode().isWeightOnly()) {
            Block wanted = byAccuracy.mode() == QuantizationMode.STATIC ? staticBlock : dynamicBlock;
            turnedDown =
                    new DecidedLayer.TurnedDown(
                            wanted,
                            byAccuracy.withWeightOnly(
                                    byAccuracy.mode(), byAccuracy.reason(), d.weightOnlySqnr(), d.speeds()));
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
        FusedActivation fused = o.layer().activation();
        SqnrMeter stat = new SqnrMeter();
        SqnrMeter dyn = new SqnrMeter();
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.tempAttach(step);
                    NDArray ref = run(floatBlock, store, x);
                    ref = fused.apply(ref); // the fused block's semantics: on the float output
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
    private List<SpeedComparison> time(
            ObservedLayer o, List<NDArray> batches, Block int8, boolean withFusedRelu) {
        if (batches.isEmpty() || int8 == null) {
            return List.of();
        }
        Block floatBlock = o.layer().floatBlock();
        // a weight-only block fuses no ReLU: both sides then leave it to the ReLU block
        FusedActivation fused =
                withFusedRelu ? o.layer().activation() : FusedActivation.NONE;
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
                                    fused.apply(y);
                                }),
                                () -> SideBySideTimer.forward(int8, store, scope, in),
                                int8.getClass().getName() + " " + describe(int8)));
            }
        }
        hooks.reached("time " + o.layer().candidate().path());
        return out;
    }

    private static String describe(Block b) {
        if (b instanceof WeightOnlyBlock w) {
            return w.getFormatName();
        }
        return ((QuantizedBlock) b).isDynamic() ? "dynamic" : "static";
    }

    /** A weight-only candidate of an AUTO layer: the block if it won, and the decision. */
    private record WeightOnlyTrial(Block block, ModeDecision decision) {}

    /**
     * Offers AUTO a weight-only block: built, measured (at least the floor) and timed; it wins
     * where the int8 mode chosen was turned down to FP32 and the objective keeps the weight-only
     * block against fp32, or where it is faster than that int8 mode at every serving batch size
     * (both measured against the same fp32 layer, as speed-ups).
     */
    private WeightOnlyTrial tryWeightOnly(
            ObservedLayer o, List<NDArray> batches, QuantizationMode mode, ModeDecision chosen) {
        PreparedLayer layer = o.layer();
        Block w;
        try {
            w =
                    edit.built(
                            layer.candidate()
                                    .kind()
                                    .quantizeWeightOnly(
                                            layer.floatBlock(),
                                            mode.weightBits(),
                                            mode.groupSize(),
                                            mode.symmetricWeights()));
        } catch (IllegalArgumentException e) {
            return new WeightOnlyTrial(null, chosen); // the layer does not fit the format
        }
        hooks.reached("build " + mode.word() + " " + layer.candidate().path());
        double db = measureOne(o, batches, w);
        List<SpeedComparison> speeds =
                db >= chooser.getFloorDb() ? time(o, batches, w, false) : List.of();
        boolean wins = false;
        String why = null;
        if (!speeds.isEmpty() && speedRule.keeps(speeds)) {
            if (chosen.mode() == QuantizationMode.FP32) {
                wins = true;
                why = "int8 was turned down, " + mode.word() + " is kept by the objective";
            } else if (chosen.speeds().size() == speeds.size()) {
                wins = true;
                for (int i = 0; i < speeds.size(); i++) {
                    wins &= speeds.get(i).speedup() > chosen.speeds().get(i).speedup();
                }
                why = mode.word() + " is faster than " + chosen.mode().word() + " int8 at every serving batch size";
            }
        }
        if (!wins) {
            ModelEdit.release(w);
            return new WeightOnlyTrial(null, chosen.withWeightOnly(chosen.mode(), chosen.reason(), db, chosen.speeds()));
        }
        String reason =
                String.format(
                        java.util.Locale.ROOT,
                        "AUTO (%s): %s (%s %.1f dB; %s)",
                        speedRule.getObjective(),
                        why,
                        mode.word(),
                        db,
                        speeds.get(0).describe());
        return new WeightOnlyTrial(w, chosen.withWeightOnly(mode, reason, db, speeds));
    }

    /** A weight-only mode given by a rule: its block, measured, never timed (as forced int8). */
    private DecidedLayer weightOnlyByRule(
            ObservedLayer o, CalibrationStatistics stats, QuantizationMode mode) {
        PreparedLayer layer = o.layer();
        LayerKind kind = layer.candidate().kind();
        ModeRules.Choice choice = layer.candidate().choice();
        String refused = null;
        Block w = null;
        if (kind.weightOnlyType() == null) {
            refused = kind.name() + " has no weight-only mode";
        } else {
            try {
                w =
                        edit.built(
                                kind.quantizeWeightOnly(
                                        layer.floatBlock(),
                                        mode.weightBits(),
                                        mode.groupSize(),
                                        mode.symmetricWeights()));
            } catch (IllegalArgumentException e) {
                refused = e.getMessage().replaceAll("\\.$", "");
            }
        }
        List<NDArray> batches = new ArrayList<>();
        KeptInputScreen screen = KeptInputScreen.screen(o.recorder().takeKeptBatches(), batches);
        long rows = 0;
        double db = Double.NaN;
        try {
            for (NDArray b : batches) {
                rows += b.getShape().get(0);
            }
            if (w != null) {
                hooks.reached("build " + mode.word() + " " + layer.candidate().path());
                db = measureOne(o, batches, w);
            }
        } finally {
            for (NDArray b : batches) {
                b.close();
            }
        }
        if (w == null) {
            ModeDecision d =
                    new ModeDecision(
                            QuantizationMode.FP32,
                            mode.word() + " by " + choice.source() + ", but " + refused + "; left fp32",
                            Double.NaN,
                            Double.NaN);
            return new DecidedLayer(o, d, null, layer.floatBlock(), stats, rows, screen, null);
        }
        ModeDecision d =
                chooser.decide(choice, Double.NaN, Double.NaN, null)
                        .withWeightOnly(mode, mode.word() + " (weight-only) by " + choice.source(), db, List.of());
        return new DecidedLayer(o, d, null, w, stats, rows, screen, null);
    }

    /** One block's output SQNR against the float layer (no ReLU on either side), NaN if none. */
    private double measureOne(ObservedLayer o, List<NDArray> batches, Block block) {
        if (batches.isEmpty()) {
            return Double.NaN;
        }
        Block floatBlock = o.layer().floatBlock();
        SqnrMeter meter = new SqnrMeter();
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.tempAttach(step);
                    meter.add(run(floatBlock, store, x), run(block, store, x));
                }
            }
        }
        return meter.isNonFinite() ? Double.NaN : meter.decibels();
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
