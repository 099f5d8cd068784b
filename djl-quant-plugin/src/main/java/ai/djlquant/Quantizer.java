package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SymbolBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.plan.LayerDecision;
import ai.djlquant.plan.ModeRules;
import ai.djlquant.plan.PathPattern;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.transform.BlockTree;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

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
 * <p>What happens, in order (one class per step):
 *
 * <ol>
 *   <li>check: the model has a DJL block tree (not TorchScript), is initialised and not already
 *       quantized, and the source holds the samples asked for; nothing has changed yet;
 *   <li>fold ({@code transform.BatchNormFolding}): a BatchNorm after a Conv or Linear goes into it;
 *   <li>fuse ({@code transform.ReluFusion}): a ReLU that alone reads a layer's output is marked;
 *   <li>prepare ({@link Preparation}): every Linear, Conv1d and Conv2d that may be quantized is
 *       wrapped by an observer block ({@code nn.ObservedLinear}, ...);
 *   <li>calibrate ({@link Calibration}): the source runs through the model; each layer's observer
 *       sees its inputs and keeps a sample of them;
 *   <li>plan ({@link Planning}, {@code plan.LayerPlanner}): each layer's static and dynamic int8
 *       blocks are measured against fp32 on its kept inputs; STATIC, DYNAMIC or FP32 is chosen;
 *   <li>convert ({@link Conversion}): the observers give way to the chosen blocks.
 * </ol>
 *
 * <p>Atomic: every change to the tree goes through an undo log; if any step fails, the model is
 * put back exactly as it was (same blocks, same parameter arrays, same outputs) and the exception
 * is thrown. On success the float weights the tree no longer uses are freed (see {@link
 * QuantizationConfig.Builder#optReleaseFloatWeights}).
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
     */
    public static QuantizationReport quantize(
            Model model, CalibrationData data, QuantizationConfig config) {
        return quantize(model, data, config, step -> {});
    }

    /** Points where tests can make a step fail. */
    interface Hooks {
        /**
         * Called when a step is done ("prepare", "calibrate", "plan") and after each replacement
         * of convert ("convert &lt;path&gt;").
         */
        void reached(String step);
    }

    static QuantizationReport quantize(
            Model model, CalibrationData data, QuantizationConfig config, Hooks hooks) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(config, "config");
        long start = System.nanoTime();
        Block root = model.getBlock();
        if (root == null) {
            throw new IllegalArgumentException(
                    "model '" + model.getName() + "' has no block to quantize.");
        }
        refuseSymbolBlock(model, root);
        BlockTree tree = BlockTree.walk(root);
        refuseQuantized(tree);
        requireInitialised(tree);
        long samples = countSamples(model, data, config);

        Session s = new Session(model, config, hooks, tree);
        s.expectedSamples = samples;
        s.report.source = data.describe();
        long modelFloatBytes = parameterBytes(root);
        collectLayers(s);
        long calibrated;
        long planned;
        try {
            Preparation.foldBatchNorms(s);
            Preparation.findRelus(s);
            Preparation.insertObservers(s);
            hooks.reached("prepare");
            long t = System.nanoTime();
            s.calibration =
                    Calibration.run(
                            model, data, samples, s.tracker, config.getProgress(), config.getSeed());
            calibrated = System.nanoTime() - t;
            if (s.calibration.getSamples() < samples) {
                throw new IllegalArgumentException(
                        "the calibration source gave "
                                + s.calibration.getSamples()
                                + " samples on its second reading but "
                                + samples
                                + " when counted; use a source that can be read twice (a"
                                + " Dataset or a Collection).");
            }
            hooks.reached("calibrate");
            t = System.nanoTime();
            Planning.plan(s);
            planned = System.nanoTime() - t;
            hooks.reached("plan");
            Conversion.convert(s);
        } catch (RuntimeException | Error e) {
            s.rollback(e);
            throw e;
        } finally {
            s.closeSamples();
        }
        s.log.commit();
        fillReport(s, modelFloatBytes);
        Conversion.releaseFloatWeights(s);
        QuantizationReport r = s.report;
        r.calibrationSeconds = calibrated / 1e9;
        r.planSeconds = planned / 1e9;
        r.totalSeconds = (System.nanoTime() - start) / 1e9;
        return r;
    }

    // ---------------------------------------------------------------------------------------
    // checks before anything changes

    private static void refuseSymbolBlock(Model model, Block root) {
        if (root instanceof SymbolBlock) {
            throw new IllegalArgumentException(
                    "model '"
                            + model.getName()
                            + "' is a "
                            + root.getClass().getSimpleName()
                            + " (a TorchScript or other compiled model): its layers are compiled"
                            + " code that cannot be rewritten. Rebuild the architecture from DJL"
                            + " blocks (a BlockFactory), load the weights into it, then quantize"
                            + " that model.");
        }
    }

    private static void refuseQuantized(BlockTree tree) {
        for (BlockNode n : tree.getNodes()) {
            if (Int8Blocks.isInt8(n.getBlock()) || n.getBlock() instanceof ObservedBlock) {
                throw new IllegalArgumentException(
                        "the model is already quantized: layer "
                                + n.displayPath()
                                + " is a "
                                + n.getType()
                                + ". Quantize the float model instead.");
            }
        }
    }

    private static void requireInitialised(BlockTree tree) {
        for (BlockNode n : tree.getNodes()) {
            for (Parameter p : n.getBlock().getDirectParameters().values()) {
                if (!p.isInitialized()) {
                    throw new IllegalArgumentException(
                            "the model is not initialised: layer "
                                    + n.displayPath()
                                    + " ("
                                    + n.getType()
                                    + ") has no value for parameter '"
                                    + p.getName()
                                    + "'. Load its parameters (Model.load) or call"
                                    + " block.initialize(manager, DataType.FLOAT32, inputShape)"
                                    + " before quantizing.");
                }
            }
        }
        if (!tree.getRoot().getBlock().isInitialized()) {
            for (BlockNode n : tree.getNodes()) {
                if (!n.getBlock().isInitialized()) {
                    throw new IllegalArgumentException(
                            "the model is not initialised: block "
                                    + n.displayPath()
                                    + " ("
                                    + n.getType()
                                    + ") has no input shapes. Load the model's parameters or"
                                    + " initialize the block before quantizing.");
                }
            }
        }
    }

    private static long countSamples(Model model, CalibrationData data, QuantizationConfig c) {
        long want = c.getCalibrationSamples();
        long have;
        try (ai.djl.ndarray.NDManager m = model.getNDManager().newSubManager()) {
            have = data.count(m, want);
        }
        if (have == 0) {
            throw new IllegalArgumentException(
                    "the calibration source (" + data.describe() + ") holds no samples.");
        }
        if (have < want && c.isExactSamples()) {
            throw new IllegalArgumentException(
                    "calibrationSamples is "
                            + want
                            + " but the calibration source ("
                            + data.describe()
                            + ") holds only "
                            + have
                            + ".");
        }
        return have;
    }

    // ---------------------------------------------------------------------------------------
    // layers

    private static void collectLayers(Session s) {
        ModeRules rules = s.config.getModeRules();
        Set<Block> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockNode n : s.originalTree.getNodes()) {
            Block b = n.getBlock();
            if (!Int8Blocks.isQuantizable(b) || !seen.add(b)) {
                continue;
            }
            PathPattern excluded = rules.exclusionOf(n.getPath());
            if (excluded != null) {
                continue; // reported as an fp32 layer by fillReport
            }
            int places = s.originalTree.occurrencesOf(b).size();
            QuantLayer layer = new QuantLayer(b, n.getPath(), places, rules.modeFor(n.getPath(), b.getClass()));
            layer.report.floatBytes = parameterBytes(b);
            s.layers.add(layer);
            s.byOriginal.put(b, layer);
        }
    }

    // ---------------------------------------------------------------------------------------
    // report

    private static void fillReport(Session s, long modelFloatBytes) {
        QuantizationReport r = s.report;
        ModeRules rules = s.config.getModeRules();
        Set<Block> folded = Collections.newSetFromMap(new IdentityHashMap<>());
        for (QuantLayer l : s.layers) {
            if (l.foldedBatchNorm != null) {
                folded.add(l.foldedBatchNorm);
            }
        }
        Set<Block> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockNode n : s.originalTree.getNodes()) {
            Block b = n.getBlock();
            if (!done.add(b)) {
                continue;
            }
            QuantLayer layer = s.byOriginal.get(b);
            if (layer != null) {
                r.layers.add(layerReport(s, layer));
            } else if (Int8Blocks.isQuantizable(b)) {
                PathPattern p = rules.exclusionOf(n.getPath());
                r.layers.add(floatRow(n, "excluded by path pattern '" + p + "'"));
            } else if (b instanceof SymbolBlock) {
                r.layers.add(floatRow(n, "a compiled (TorchScript) block: it cannot be rewritten"));
            } else if (!b.getDirectParameters().isEmpty() && !folded.contains(b)) {
                String why;
                if (!(b instanceof BatchNorm)) {
                    why = "not a quantizable layer type (Linear, Conv1d and Conv2d are)";
                } else if (!s.config.isFoldBatchNorm()) {
                    why = "BatchNorm folding is off";
                } else if (s.unfolded.containsKey(b)) {
                    why = "BatchNorm not folded: " + s.unfolded.get(b);
                } else {
                    why = "BatchNorm not right after a Linear or convolution in a SequentialBlock";
                }
                r.layers.add(floatRow(n, why));
            }
        }
        for (BlockTree.UnregisteredChild u : s.originalTree.getUnregisteredChildren()) {
            int quantizable = 0;
            for (BlockNode n : BlockTree.walk(u.getBlock()).getNodes()) {
                if (Int8Blocks.isQuantizable(n.getBlock())) {
                    quantizable++;
                }
            }
            if (quantizable > 0) {
                LayerReport row = new LayerReport(u.displayPath(), u.getBlock().getClass().getSimpleName());
                row.reason =
                        "held in field "
                                + u.getField()
                                + " but not registered as a child, so DJL neither reaches nor"
                                + " saves it; its "
                                + quantizable
                                + " Linear/Conv layer(s) stay fp32";
                row.floatBytes = parameterBytes(u.getBlock());
                row.quantizedBytes = row.floatBytes;
                r.layers.add(row);
            }
        }
        for (String f : s.originalTree.getUnreadableFields()) {
            r.notes.add("field not readable, so not checked for blocks: " + f + ".");
        }
        for (QuantLayer l : s.layers) {
            if (l.places > 1) {
                r.notes.add(
                        "layer " + l.path + " is shared by " + l.places
                                + " places; all of them now use one block.");
            }
        }
        if (s.model.getBlock() != s.originalRoot) {
            r.notes.add(
                    "the root block itself was replaced (model.setBlock); predictors made"
                            + " before quantization still run the float block.");
        }
        r.calibrationSamples = s.calibration.getSamples();
        r.calibrationBatches = s.calibration.getBatches();
        r.observer = s.config.newActivationObserver().getClass().getSimpleName();
        r.estimator = String.valueOf(s.config.getRangeEstimator());
        r.backend = Int8Backends.get().getName();
        r.activationBits = s.activationBits;
        r.marginDb = s.planner.getMarginDb();
        r.floorDb = s.planner.getFloorDb();
        r.modelFloatBytes = modelFloatBytes;
        r.modelQuantizedBytes = parameterBytes(s.model.getBlock());
    }

    private static LayerReport floatRow(BlockNode n, String why) {
        LayerReport row = new LayerReport(n.getPath(), n.getType());
        row.reason = why;
        row.floatBytes = parameterBytes(n.getBlock());
        row.quantizedBytes = row.floatBytes;
        return row;
    }

    private static LayerReport layerReport(Session s, QuantLayer l) {
        LayerReport row = l.report;
        LayerDecision d = l.decision;
        row.mode = d.getMode();
        row.reason = d.getReason();
        row.staticSqnrDb = d.getStaticSqnr();
        row.dynamicSqnrDb = d.getDynamicSqnr();
        row.foldedBatchNorm = l.foldedBatchNormPath;
        row.fusedRelu = l.relu != null ? l.reluPath : null;
        row.quantizedBytes = parameterBytes(l.finalBlock);
        if (d.getMode() != QuantizationMode.FP32) {
            QuantParams w = Int8Blocks.weightParams(l.finalBlock);
            float[] scales = w.getScales();
            float lo = Float.MAX_VALUE;
            float hi = 0;
            for (float f : scales) {
                lo = Math.min(lo, f);
                hi = Math.max(hi, f);
            }
            row.weightParams =
                    String.format(
                            Locale.ROOT,
                            "int8 symmetric per-channel x%d, scales %.3g..%.3g",
                            scales.length,
                            lo,
                            hi);
            row.activationParams =
                    d.getMode() == QuantizationMode.DYNAMIC
                            ? "dynamic uint" + s.activationBits
                            : Planning.describeActivation(l.activationParams);
        }
        LayerRecorder rec = l.recorder;
        if (rec != null && rec.getCalls() > 0) {
            row.inputNonFinite = rec.getActivation().getNonFiniteCount();
            row.outputNonFinite = rec.getOutput().getNonFiniteCount();
            if (!rec.getOutput().isEmpty()) {
                row.outputRange =
                        String.format(
                                Locale.ROOT,
                                "[%.4g, %.4g]",
                                rec.getOutput().getMin(),
                                rec.getOutput().getMax());
            }
            if (rec.getActivation() instanceof ai.djlquant.observe.TensorRangeObserver
                    && !rec.getActivation().isEmpty()) {
                ai.djlquant.observe.TensorRangeObserver o =
                        (ai.djlquant.observe.TensorRangeObserver) rec.getActivation();
                row.inputRange =
                        String.format(Locale.ROOT, "[%.4g, %.4g]", o.getMin(), o.getMax());
            }
        }
        return row;
    }

    /**
     * Returns the bytes of a block's parameters: elements times the width of their data type (an
     * int8 weight counts one byte per element).
     *
     * @param block a block
     * @return bytes
     */
    static long parameterBytes(Block block) {
        long bytes = 0;
        for (Parameter p : block.getParameters().values()) {
            if (p.isInitialized()) {
                NDArray a = p.getArray();
                bytes += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return bytes;
    }
}
