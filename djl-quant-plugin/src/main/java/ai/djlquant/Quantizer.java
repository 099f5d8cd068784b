package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.plan.ModeChooser;
import ai.djlquant.transform.BlockTree;

import java.util.List;
import java.util.Objects;

/**
 * Post-training int8 quantization of a DJL model, in place: the one entry point.
 *
 * <pre>{@code
 * QuantizationReport report = Quantizer.quantize(
 *         model,
 *         CalibrationData.fromInputs(images, translator, 32),
 *         QuantizationConfig.defaults());
 * System.out.println(report.toTable());
 * Predictor<Image, Classifications> p = model.newPredictor(translator); // runs int8
 * }</pre>
 *
 * <p>What happens, in order; each step is a class that takes values and returns values:
 *
 * <ol>
 *   <li>check ({@link ModelChecks}): the model has a DJL block tree (not TorchScript), is
 *       initialised and not already quantized, and the source holds the samples asked for; the
 *       layers of a known kind ({@code kind.LayerKinds}) not excluded by the rules are the
 *       {@link Candidate}s; nothing has changed yet;
 *   <li>fold ({@link Folding}): a BatchNorm after a candidate goes into it;
 *   <li>fuse ({@link Fusion}): a ReLU that alone reads a candidate's output is found;
 *   <li>observe ({@link Observation}): each candidate whose rule is not FP32 is wrapped by its
 *       kind's observer block;
 *   <li>calibrate ({@link Calibration}): the source runs through the model; each observer records
 *       its layer's inputs ({@link CalibrationRecorder}), and a few batches are kept with the fp32
 *       model's outputs on them;
 *   <li>decide ({@link Decision}): each layer's static and dynamic int8 blocks are measured against
 *       fp32 on its kept inputs; STATIC, DYNAMIC or FP32 is chosen ({@code plan.ModeChooser});
 *   <li>convert ({@link Conversion}): the observers give way to the chosen blocks;
 *   <li>plan check ({@link PlanCheck}): layers turned down for speed, each timed alone, are
 *       timed again in the model;
 *   <li>measure ({@link WholeModelCheck}): the int8 model's outputs against the fp32 outputs
 *       kept during calibration ({@link ReferenceRecorder}), on a few calibration batches; bias
 *       correction is kept only where it helps the whole model ({@link BiasCorrectionCheck}),
 *       and with an accuracy goal layers go back to fp32 until it holds ({@link GoalSearch});
 *   <li>chain ({@link Chaining}, {@link QuantizationConfig.Builder#optInt8Chains}, on by default):
 *       runs of int8 Linear or Conv2d layers (static after the first) in a SequentialBlock run as
 *       int8 chains (uint8 between them), kept where the objective keeps them against the model
 *       without them, timed side by side;
 *   <li>time ({@link ModelTiming}): the model as it will run against the fp32 model;
 *   <li>report ({@link Reporting}): one row per layer, the totals and notes.
 * </ol>
 *
 * <p>Atomic: every change to the tree goes through an undo log ({@link ModelEdit}); if any step
 * fails, the model is put back exactly as it was (same blocks, same parameter arrays, same
 * outputs) and the exception is thrown. On success the float weights the tree no longer uses are
 * freed (see {@link QuantizationConfig.Builder#optReleaseFloatWeights}).
 *
 * <p>Predictors: DJL predictors run the block they got from {@code model.getBlock()} when they
 * were made; since blocks are replaced inside that root, predictors made before quantization run
 * the int8 model afterwards. Only when the root itself is a quantizable layer is the root replaced
 * ({@code model.setBlock}); predictors made before then keep running the float layer.
 *
 * <p>Not thread-safe with respect to the model: do not run predictions on the model while it is
 * being quantized (they would run through the observers).
 */
public final class Quantizer {

    private Quantizer() {}

    /**
     * Quantizes a model in place.
     *
     * @param model an initialised model with a DJL block tree (for example loaded with {@code
     *     Criteria} and a {@code BlockFactory}, or built and {@code Model.load}ed)
     * @param data the calibration source
     * @param config the configuration
     * @return what was done to each layer
     * @throws IllegalArgumentException if the model, the source or a calibration batch cannot be
     *     used (the model is unchanged)
     * @throws QuantizationInterruptedException if the thread is interrupted (checked before each
     *     calibration batch and layer; the model is unchanged, the interrupt status kept)
     */
    public static QuantizationReport quantize(
            Model model, CalibrationData data, QuantizationConfig config) {
        return quantize(model, data, config, StepHooks.NONE);
    }

    static QuantizationReport quantize(
            Model model, CalibrationData data, QuantizationConfig config, StepHooks hooks) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(config, "config");
        Cancellation.check("before it started");
        hooks = Cancellation.checking(hooks);
        long start = System.nanoTime();
        BlockTree tree = ModelChecks.treeOf(model);
        long samples = ModelChecks.countSamples(model, data, config);
        List<Candidate> candidates = Candidate.findAll(tree, config.getModeRules());
        long floatBytes = BlockTree.parameterBytes(model.getBlock());
        ModeChooser chooser = new ModeChooser(config.getAutoMarginDb(), config.getAutoFloorDb());
        AccuracyGoal goal = config.getAccuracyGoal();
        // the goal's fp32 value, before anything changes (a metric that fails fails here)
        QuantizationReport.Measurement fp32Metric = null;
        if (goal != null) {
            long t = System.nanoTime();
            double v = goal.measure(model, "the fp32 model");
            fp32Metric = new QuantizationReport.Measurement(v, (System.nanoTime() - t) / 1e9);
        }
        int activationBits = Int8Backends.get().getActivationBits();

        RecoveryTechniques all = RecoveryTechniques.of(config);
        // each technique's "before": the model quantized with the techniques before it in the
        // flow and not it, each such attempt rolled back (calibration and decide run again)
        List<RecoveryTechniques.Measured> before = new java.util.ArrayList<>();
        for (int k = 0; k < all.baselines(); k++) {
            ModelEdit trial = new ModelEdit(model);
            try {
                Attempt a =
                        attempt(trial, model, data, config, all.first(k), tree, candidates, samples,
                                chooser, activationBits, hooks, null, false);
                before.add(RecoveryTechniques.Measured.of(a.decided(), a.whole()));
            } finally {
                trial.discard();
            }
        }
        ModelEdit edit = new ModelEdit(model);
        Attempt done;
        try {
            done = attempt(edit, model, data, config, all, tree, candidates, samples, chooser,
                    activationBits, hooks, fp32Metric, true);
        } catch (RuntimeException | Error e) {
            edit.rollback(e);
            throw e;
        }
        edit.commit();
        List<DecidedLayer> decided = done.decided();
        List<QuantizationReport.Recovery> recovery =
                all.report(before, RecoveryTechniques.Measured.of(decided, done.whole()), done.steps());
        Reporting.Inputs inputs =
                new Reporting.Inputs(
                        edit,
                        tree,
                        config,
                        done.folded(),
                        decided,
                        done.calibration(),
                        chooser,
                        activationBits,
                        data.describe(),
                        floatBytes,
                        done.whole(),
                        done.speed(),
                        done.goalResult(),
                        done.planNote(),
                        recovery,
                        done.chains());
        QuantizationReport report =
                Reporting.report(inputs, (System.nanoTime() - start) / 1e9, done.decideNanos() / 1e9);
        if (config.isReleaseFloatWeights()) {
            Conversion.releaseFloatWeights(edit, decided);
        }
        return report;
    }

    /**
     * What one pass of the flow returned.
     *
     * @param folded what folding did
     * @param decided the decided layers
     * @param calibration the calibration pass
     * @param decideNanos the decide step's time
     * @param whole the whole-model error
     * @param speed the model's timing
     * @param goalResult the goal's trials, or null
     * @param planNote the plan check's note, or null
     * @param steps what the recovery techniques did
     * @param chains what the chains step did
     */
    private record Attempt(
            Folding.Result folded,
            List<DecidedLayer> decided,
            CalibrationRun calibration,
            long decideNanos,
            WholeModelError whole,
            QuantizationReport.Speed speed,
            QuantizationReport.GoalResult goalResult,
            String planNote,
            RecoveryTechniques.Steps steps,
            Chaining.Result chains) {}

    /**
     * The flow from fold to measure (and goal, chain, time where {@code full}), every change through
     * {@code edit}, which the caller commits or rolls back.
     */
    private static Attempt attempt(
            ModelEdit edit,
            Model model,
            CalibrationData data,
            QuantizationConfig config,
            RecoveryTechniques techniques,
            BlockTree tree,
            List<Candidate> candidates,
            long samples,
            ModeChooser chooser,
            int activationBits,
            StepHooks hooks,
            QuantizationReport.Measurement fp32Metric,
            boolean full) {
        AccuracyGoal goal = full ? config.getAccuracyGoal() : null;
        Folding.Result folded;
        List<DecidedLayer> decided;
        CalibrationRun calibration;
        long decideNanos;
        WholeModelError whole;
        QuantizationReport.Speed speed;
        QuantizationReport.GoalResult goalResult = null;
        String planNote = null;
        Chaining.Result chains = Chaining.Result.off();
        Equalization.Result equalized = null;
        Smoothing.Result smoothed = null;
        Decision decision;
        BiasCorrectionCheck.Result uncorrected = null;
        try (NDManager kept = model.getNDManager().newSubManager()) {
            kept.setName("djl-quant calibration samples");
            folded = Folding.fold(edit, tree, candidates, config.isFoldBatchNorm());
            List<PreparedLayer> layers = folded.layers();
            if (techniques.equalize()) {
                equalized = Equalization.equalize(edit, layers, folded.passThrough(), kept);
                layers = equalized.layers();
                hooks.reached("equalize");
            }
            if (techniques.smooth()) {
                smoothed =
                        Smoothing.smooth(
                                edit, model, data, samples, config, techniques.smoothAlpha(),
                                layers, folded.passThrough(), kept);
                layers = smoothed.layers();
                hooks.reached("smooth");
            }
            List<PreparedLayer> prepared =
                    Fusion.findRelus(
                            edit.currentTree(),
                            layers,
                            folded.passThrough(),
                            kept,
                            config.isFuseRelu());
            ForwardTracker tracker = new ForwardTracker();
            List<ObservedLayer> observed =
                    Observation.insert(edit, prepared, config, tracker, kept);
            hooks.reached("prepare");
            ReferenceRecorder reference =
                    new ReferenceRecorder(kept, config.getWholeModelSamples(), config.getSeed());
            try {
                calibration =
                        Calibration.run(
                                model,
                                data,
                                samples,
                                tracker,
                                config.getProgress(),
                                config.getSeed(),
                                reference);
                ModelChecks.requireSameSamples(calibration, samples);
                hooks.reached("calibrate");
                List<Integer> serving = calibration.servingBatchSizes(config);
                long t = System.nanoTime();
                decision =
                        new Decision(
                                edit, config, chooser, activationBits, kept, serving, hooks,
                                techniques.biasCorrection());
                decided = decision.decideAll(observed);
                decideNanos = System.nanoTime() - t;
                hooks.reached("decide");
                LayerSwaps swaps = new LayerSwaps();
                Conversion.convert(edit, decided, swaps, hooks);
                ReferenceOutputs referenceOutputs = reference.take();
                SideBySideTimer modelTimer = SideBySideTimer.forModels();
                PlanCheck.Result checked =
                        PlanCheck.run(
                                edit,
                                swaps,
                                decided,
                                referenceOutputs,
                                serving,
                                config.getObjective(),
                                modelTimer,
                                kept);
                decided = checked.layers();
                planNote = checked.note();
                hooks.reached("plan check");
                whole = WholeModelCheck.measure(model, referenceOutputs, kept);
                hooks.reached("measure");
                uncorrected =
                        BiasCorrectionCheck.measure(
                                edit, model, decided, decision.biasCorrections(), referenceOutputs, kept, whole);
                if (uncorrected != null) {
                    decided = uncorrected.layers();
                    whole = uncorrected.whole();
                }
                if (goal != null) {
                    GoalSearch.Outcome outcome =
                            GoalSearch.run(
                                    edit,
                                    swaps,
                                    decided,
                                    goal,
                                    fp32Metric,
                                    referenceOutputs,
                                    kept,
                                    config.getProgress());
                    decided = outcome.layers();
                    goalResult = outcome.result();
                    if (outcome.restoredAny()) {
                        whole = WholeModelCheck.measure(model, referenceOutputs, kept);
                    }
                    hooks.reached("accuracy goal");
                }
                if (full && config.isInt8Chains()) {
                    // after every layer swap of the steps before (they replace blocks a chain
                    // holds), before the model timing, which times the model as it will run
                    chains =
                            Chaining.form(
                                    edit,
                                    config.getObjective(),
                                    referenceOutputs.inputs().isEmpty()
                                            ? null
                                            : new Chaining.Timing(
                                                    referenceOutputs.inputs().get(0), serving,
                                                    modelTimer, kept));
                    hooks.reached("chain");
                }
                ModelTiming.Result timed =
                        full && config.isTimeModel()
                                ? ModelTiming.measure(
                                        edit, swaps, decided, referenceOutputs, serving, modelTimer, kept)
                                : ModelTiming.Result.unmeasured(
                                        full
                                                ? "model timing is off (optTimeModel)"
                                                : "a recovery technique's baseline");
                speed =
                        new QuantizationReport.Speed(
                                config.getObjective(), serving, timed.speeds(), timed.unmeasured());
                hooks.reached("time model");
            } finally {
                for (ObservedLayer o : observed) {
                    if (o.recorder() != null) {
                        o.recorder().closeSamples();
                    }
                }
            }
        }
        return new Attempt(
                folded,
                decided,
                calibration,
                decideNanos,
                whole,
                speed,
                goalResult,
                planNote,
                new RecoveryTechniques.Steps(equalized, smoothed, decision.biasCorrections(), uncorrected),
                chains);
    }
}
