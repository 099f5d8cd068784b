package ai.djlquant;

import ai.djl.nn.Block;
import ai.djl.nn.SymbolBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kind.LayerKinds;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.WeightOnlyBlock;
import ai.djlquant.plan.ModeChooser;
import ai.djlquant.plan.PathPattern;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.quant.Granularity;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The report step: one row per block of the user's tree that has parameters (each decided layer,
 * each layer or BatchNorm left alone with the reason), the model's totals, and notes. Every row is
 * filled here, from the values the other steps returned.
 */
final class Reporting {

    /**
     * Everything the report is made from.
     *
     * @param edit the committed edit (the model as it is now, its root before)
     * @param tree the user's tree, walked before any change
     * @param config the configuration
     * @param folding what the fold step did
     * @param layers the decided layers
     * @param calibration what the calibration pass ran
     * @param chooser the AUTO rule used
     * @param activationBits the static activation grid's width
     * @param source the calibration source, described
     * @param modelFloatBytes the model's parameter bytes before
     * @param wholeModel the whole model's error after convert
     * @param speed the whole model's speed after convert
     * @param goal what the accuracy goal found, or null if none was set
     * @param planCheck what the plan check found, or null if there was nothing to check
     */
    record Inputs(
            ModelEdit edit,
            BlockTree tree,
            QuantizationConfig config,
            Folding.Result folding,
            List<DecidedLayer> layers,
            CalibrationRun calibration,
            ModeChooser chooser,
            int activationBits,
            String source,
            long modelFloatBytes,
            WholeModelError wholeModel,
            QuantizationReport.Speed speed,
            QuantizationReport.GoalResult goal,
            String planCheck,
            List<QuantizationReport.Recovery> recovery,
            Chaining.Result chains) {}

    private Reporting() {}

    static QuantizationReport report(Inputs in, double totalSeconds, double decideSeconds) {
        List<LayerReport> rows = rows(in);
        List<String> notes = notes(in);
        if (in.planCheck() != null) {
            notes.add(in.planCheck() + ".");
        }
        QuantizationConfig c = in.config();
        QuantizationReport.WholeModel whole = wholeModel(in);
        notes.addAll(CalibrationFindings.notes(in.layers()));
        List<String> warnings = new ArrayList<>(CalibrationFindings.warnings(in.layers()));
        warnings.addAll(warnings(whole));
        warnings.addAll(warnings(in.speed()));
        if (in.goal() != null && !in.goal().met()) {
            QuantizationReport.GoalResult g = in.goal();
            warnings.add(
                    String.format(
                            Locale.ROOT,
                            "the accuracy goal was not met: %s is %s below fp32 %s, the goal allows"
                                    + " %s (missed by %s) after %d trial(s); the best model found"
                                    + " (trial %d) is kept",
                            g.metric(),
                            GoalSearch.num(g.chosen().drop()),
                            GoalSearch.num(g.fp32().value()),
                            GoalSearch.num(g.maxDrop()),
                            GoalSearch.num(g.chosen().drop() - g.maxDrop()),
                            g.trials().size() - 1,
                            g.chosen().number()));
        }
        for (String w : warnings) {
            notes.add("warning: " + w);
        }
        QuantizationReport.Calibration cal =
                new QuantizationReport.Calibration(
                        in.source(),
                        in.calibration().samples(),
                        in.calibration().batches(),
                        c.newActivationObserver().getClass().getSimpleName(),
                        String.valueOf(c.getRangeEstimator()),
                        Int8Backends.get().getName(),
                        in.activationBits(),
                        in.chooser().getMarginDb(),
                        in.chooser().getFloorDb());
        QuantizationReport.Timing timing =
                new QuantizationReport.Timing(in.calibration().seconds(), decideSeconds, totalSeconds);
        return new QuantizationReport(
                rows,
                notes,
                cal,
                in.modelFloatBytes(),
                BlockTree.parameterBytes(in.edit().model().getBlock()),
                timing,
                // measured once per JVM (and thread count), on the first report
                HostProfile.current(),
                whole,
                in.speed(),
                in.goal(),
                warnings,
                in.recovery());
    }

    /** The whole-model error with the worst int8 layer's SQNR (its chosen mode's) beside it. */
    private static QuantizationReport.WholeModel wholeModel(Inputs in) {
        double worst = Double.NaN;
        String worstPath = null;
        for (DecidedLayer d : in.layers()) {
            double db =
d.decision().chosenSqnr();
            if (!Double.isNaN(db) && (Double.isNaN(worst) || db < worst)) {
                worst = db;
                worstPath = d.layer().candidate().path();
            }
        }
        WholeModelError e = in.wholeModel();
        return new QuantizationReport.WholeModel(
                e.sqnrDb(),
                e.samples(),
                e.batches(),
                worst,
                worstPath,
                in.config().getWholeModelFloorDb(),
                in.config().getWholeModelMarginDb(),
                e.unmeasured());
    }

    /**
     * The warnings on the whole-model error: under the floor, or more than the margin below the
     * worst int8 layer (each layer measured alone; the errors of many layers add up, and a model
     * can amplify them).
     */
    static List<String> warnings(QuantizationReport.WholeModel w) {
        List<String> out = new ArrayList<>();
        double db = w.sqnrDb();
        if (Double.isNaN(db)) {
            return out;
        }
        if (db < w.floorDb()) {
            out.add(
                    String.format(
                            Locale.ROOT,
                            "the whole int8 model's output SQNR vs fp32 is %.1f dB, below the"
                                    + " %.1f dB floor (output noise above a tenth of the signal's"
                                    + " amplitude): check the model's accuracy, or keep more"
                                    + " layers fp32",
                            db,
                            w.floorDb()));
        }
        if (!Double.isNaN(w.worstLayerSqnrDb()) && db < w.worstLayerSqnrDb() - w.marginDb()) {
            out.add(
                    String.format(
                            Locale.ROOT,
                            "the whole int8 model's output SQNR vs fp32 (%.1f dB) is more than"
                                    + " %.1f dB below its worst int8 layer's (%.1f dB, %s):"
                                    + " quantization errors accumulate across the layers",
                            db,
                            w.marginDb(),
                            w.worstLayerSqnrDb(),
                            w.worstLayer()));
        }
        return out;
    }

    /** The warning when the int8 model is slower than fp32 at a serving batch size. */
    static List<String> warnings(QuantizationReport.Speed speed) {
        List<SpeedComparison> slower = speed.slower();
        if (slower.isEmpty()) {
            return List.of();
        }
        List<String> at = new ArrayList<>();
        for (SpeedComparison c : slower) {
            at.add(c.describe());
        }
        return List.of(
                "THE INT8 MODEL IS SLOWER THAN FP32 on this host at "
                        + String.join("; ", at)
                        + ": serve the fp32 model at "
                        + (slower.size() == 1 ? "that batch size" : "those batch sizes")
                        + ", or quantize with objective LATENCY (int8 only where a layer is"
                        + " measurably faster)");
    }

    private static List<LayerReport> rows(Inputs in) {
        Map<Block, DecidedLayer> decided = new IdentityHashMap<>();
        Set<Block> folded = Collections.newSetFromMap(new IdentityHashMap<>());
        for (DecidedLayer d : in.layers()) {
            decided.put(d.layer().candidate().block(), d);
            if (d.layer().foldedBatchNorm() != null) {
                folded.add(d.layer().foldedBatchNorm().getBlock());
            }
        }
        List<LayerReport> rows = new ArrayList<>();
        Set<Block> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockNode n : in.tree().getNodes()) {
            Block b = n.getBlock();
            if (!done.add(b)) {
                continue;
            }
            DecidedLayer d = decided.get(b);
            if (d != null) {
                rows.add(layerRow(in, d));
            } else if (LayerKinds.ofFloat(b) != null) {
                PathPattern p = in.config().getModeRules().exclusionOf(n.getPath());
                rows.add(floatRow(n, "excluded by path pattern '" + p + "'"));
            } else if (b instanceof SymbolBlock) {
                rows.add(floatRow(n, "a compiled (TorchScript) block: it cannot be rewritten"));
            } else if (!b.getDirectParameters().isEmpty() && !folded.contains(b)) {
                rows.add(floatRow(n, whyFloat(in, b)));
            }
        }
        for (BlockTree.UnregisteredChild u : in.tree().getUnregisteredChildren()) {
            int quantizable = 0;
            for (BlockNode n : BlockTree.walk(u.getBlock()).getNodes()) {
                if (LayerKinds.ofFloat(n.getBlock()) != null) {
                    quantizable++;
                }
            }
            if (quantizable > 0) {
                long bytes = BlockTree.parameterBytes(u.getBlock()); // DJL reaches none of them
                rows.add(
                        LayerReport.builder(u.displayPath(), u.getBlock().getClass().getSimpleName())
                                .mode(
                                        QuantizationMode.FP32,
                                        "held in field "
                                                + u.getField()
                                                + " but not registered as a child, so DJL neither"
                                                + " reaches nor saves it; its "
                                                + quantizable
                                                + " "
                                                + LayerKinds.names().replace(", ", "/")
                                                + " layer(s) stay fp32")
                                .bytes(bytes, bytes)
                                .build());
            }
        }
        return rows;
    }

    private static String whyFloat(Inputs in, Block b) {
        if (!(b instanceof BatchNorm)) {
            return "not a quantizable layer type (" + LayerKinds.names() + " are)";
        }
        if (!in.config().isFoldBatchNorm()) {
            return "BatchNorm folding is off";
        }
        String unfolded = in.folding().unfolded().get(b);
        if (unfolded != null) {
            return "BatchNorm not folded: " + unfolded;
        }
        return "BatchNorm not right after a Linear or convolution in a SequentialBlock";
    }

    /** A row of a block left fp32: its own parameters only (its children have rows of their own). */
    private static LayerReport floatRow(BlockNode n, String why) {
        long bytes = BlockTree.directParameterBytes(n.getBlock());
        return LayerReport.builder(n.getPath(), n.getType())
                .mode(QuantizationMode.FP32, why)
                .bytes(bytes, bytes)
                .build();
    }

    private static LayerReport layerRow(Inputs in, DecidedLayer d) {
        PreparedLayer l = d.layer();
        Candidate c = l.candidate();
        long before = BlockTree.parameterBytes(c.block());
        String bnPath = null;
        if (l.foldedBatchNorm() != null) {
            before += BlockTree.parameterBytes(l.foldedBatchNorm().getBlock());
            bnPath = l.foldedBatchNorm().getPath();
        }
        LayerReport.Builder row =
                LayerReport.builder(c.path(), c.type())
                        .mode(d.mode(), d.decision().reason())
                        .sqnr(d.decision().staticSqnr(), d.decision().dynamicSqnr())
                        .speeds(d.decision().speeds())
                        .fused(bnPath, d.fusesRelu() ? l.relu().getPath() : null, l.activation())
                        .bytes(before, BlockTree.parameterBytes(d.finalBlock()))
                        .calibration(d.statistics(), d.measuredSamples());
        row.weightOnlySqnr(d.decision().weightOnlySqnr());
        if (d.mode().isWeightOnly()) {
            WeightOnlyBlock w = (WeightOnlyBlock) d.finalBlock();
            float[] scales = w.getWeightScales();
            float[] offsets = w.getWeightOffsets();
            // the scales and offsets live in the block's metadata, not its parameters: counted too
            long extra = 4L * (scales.length + (offsets == null ? 0 : offsets.length));
            row.bytes(before, BlockTree.parameterBytes(d.finalBlock()) + extra)
                    .weights(range(scales), scales.length, false)
                    .weightOnly(w.getFormatName());
        } else if (d.mode() != QuantizationMode.FP32) {
            float[] scales = ((QuantizedBlock) d.finalBlock()).getWeightParams().getScales();
            float lo = Float.MAX_VALUE;
            float hi = 0;
            for (float f : scales) {
                lo = Math.min(lo, f);
                hi = Math.max(hi, f);
            }
            boolean perTensor = in.config().getWeightGranularity() == Granularity.PER_TENSOR;
            row.weights(new LayerReport.Range(lo, hi), scales.length, perTensor)
                    .activation(
                            d.mode() == QuantizationMode.STATIC ? d.activationParams() : null,
                            in.activationBits());
        }
        return row.build();
    }

    private static LayerReport.Range range(float[] scales) {
        float lo = Float.MAX_VALUE;
        float hi = 0;
        for (float f : scales) {
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        return new LayerReport.Range(lo, hi);
    }

    private static List<String> notes(Inputs in) {
        List<String> notes = new ArrayList<>();
        for (String f : in.tree().getUnreadableFields()) {
            notes.add("field not readable, so not checked for blocks: " + f + ".");
        }
        for (DecidedLayer d : in.layers()) {
            Candidate c = d.layer().candidate();
            if (c.places() > 1) {
                notes.add(
                        "layer " + c.path() + " is shared by " + c.places()
                                + " places; all of them now use one block.");
            }
        }
        for (String chain : in.chains().chains()) {
            notes.add("int8 chain (uint8 between its layers): " + chain + ".");
        }
        if (in.chains().note() != null) {
            notes.add(in.chains().note());
        }
        if (in.edit().model().getBlock() instanceof ai.djlquant.nn.ChainedSequentialBlock
                && in.edit().originalRoot() instanceof ai.djl.nn.SequentialBlock) {
            notes.add(
                    "the root SequentialBlock was replaced by its chained version"
                            + " (model.setBlock); predictors made before quantization run its"
                            + " int8 layers unchained.");
        } else if (in.edit().model().getBlock() != in.edit().originalRoot()) {
            notes.add(
                    "the root block itself was replaced (model.setBlock); predictors made"
                            + " before quantization still run the float block.");
        }
        return notes;
    }
}
