package ai.djlquant;

import ai.djl.util.JsonUtils;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link Quantizer#quantize} did: one {@link LayerReport} per layer that has parameters
 * (quantized or not, with the reason), the model's totals, and notes on anything left alone.
 * {@link #toTable()} prints it; {@link #toJson()} writes it for tools.
 */
public final class QuantizationReport {

    /**
     * How the model was calibrated.
     *
     * @param source the calibration source, described
     * @param samples the samples run
     * @param batches the batches run
     * @param observer the activation observer's type
     * @param estimator the range estimator
     * @param backend the int8 backend ({@code oneDNN} or the reference kernels)
     * @param activationBits the width of the static activation grid on this machine (7 or 8)
     * @param marginDb AUTO's margin by which static may trail dynamic, dB
     * @param floorDb AUTO's floor below which a layer stays fp32, dB
     */
    public record Calibration(
            String source,
            long samples,
            long batches,
            String observer,
            String estimator,
            String backend,
            int activationBits,
            double marginDb,
            double floorDb) {}

    /**
     * Where the time went.
     *
     * @param calibrationSeconds the calibration pass
     * @param decideSeconds measuring each layer's int8 candidates and choosing its mode
     * @param totalSeconds the whole call
     */
    public record Timing(double calibrationSeconds, double decideSeconds, double totalSeconds) {}

    /**
     * The whole model's output error: the int8 model against the fp32 model, after convert, on
     * calibration batches kept during the calibration pass (the fp32 outputs recorded then).
     *
     * @param sqnrDb the output SQNR in dB over every float output value, NaN if not measured,
     *     +Infinity if exact
     * @param samples the samples compared
     * @param batches the batches compared
     * @param worstLayerSqnrDb the lowest SQNR of a layer that ended int8 (its chosen mode's), NaN
     *     if none did
     * @param worstLayer the path of that layer, or null
     * @param floorDb the floor under which the report warns
     * @param marginDb how far below the worst layer's SQNR the report warns of accumulation
     * @param unmeasured why it was not measured, or null
     */
    public record WholeModel(
            double sqnrDb,
            long samples,
            long batches,
            double worstLayerSqnrDb,
            String worstLayer,
            double floorDb,
            double marginDb,
            String unmeasured) {}

    /**
     * The whole model's speed, fp32 against int8, after convert, and what the plan was asked to
     * hold to.
     *
     * @param objective what AUTO asked of each int8 layer's speed
     * @param servingBatchSizes the batch sizes the layers and the model were timed at
     * @param model the whole model timed at each serving batch size (empty if not timed)
     * @param unmeasured why the model was not timed (or not at every size), or null
     */
    public record Speed(
            Objective objective,
            List<Integer> servingBatchSizes,
            List<SpeedComparison> model,
            String unmeasured) {

        /**
         * Checks and copies the lists.
         *
         * @param objective what AUTO asked of each int8 layer's speed
         * @param servingBatchSizes the batch sizes the layers and the model were timed at
         * @param model the whole model timed at each serving batch size
         * @param unmeasured why the model was not timed, or null
         */
        public Speed {
            servingBatchSizes = List.copyOf(servingBatchSizes);
            model = List.copyOf(model);
        }

        /**
         * Returns the comparisons at which the int8 model is slower than fp32 beyond noise.
         *
         * @return those comparisons, possibly none
         */
        public List<SpeedComparison> slower() {
            List<SpeedComparison> out = new ArrayList<>();
            for (SpeedComparison c : model) {
                if (c.verdict() == SpeedComparison.Verdict.SLOWER) {
                    out.add(c);
                }
            }
            return out;
        }
    }

    /**
     * One measurement of the accuracy goal's metric.
     *
     * @param value the metric's value
     * @param seconds how long it took
     */
    public record Measurement(double value, double seconds) {}

    /**
     * One version of the model the accuracy goal measured.
     *
     * @param number 0 for the int8 model as converted, then 1, 2, ... (trial {@code k} restores
     *     the {@code k} most sensitive layers)
     * @param restoredToFp32 the paths of the layers restored to fp32 in it
     * @param value the metric's value
     * @param drop how much worse than fp32 it is, in the metric's units (negative if better)
     * @param meetsGoal whether the drop is within the goal
     * @param seconds how long the measurement took
     */
    public record Trial(
            int number,
            List<String> restoredToFp32,
            double value,
            double drop,
            boolean meetsGoal,
            double seconds) {

        /**
         * Copies the list.
         *
         * @param number the trial's number
         * @param restoredToFp32 the layers restored
         * @param value the metric's value
         * @param drop the drop from fp32
         * @param meetsGoal whether the goal holds
         * @param seconds the time taken
         */
        public Trial {
            restoredToFp32 = List.copyOf(restoredToFp32);
        }
    }

    /**
     * What the accuracy goal found: the metric on the fp32 model, every trial, and which one the
     * model is now.
     *
     * @param metric the metric's name
     * @param higherIsBetter whether higher values are better
     * @param maxDrop the largest acceptable drop
     * @param fp32 the metric on the fp32 model, before any change
     * @param trials every version measured, trial 0 first
     * @param chosenTrial the index in {@code trials} of the version the model is now
     * @param sensitivityOrder the int8 layers, most sensitive first (empty if no search was needed)
     * @param ranking how the layers were ranked, with each one's measurement, or null
     */
    public record GoalResult(
            String metric,
            boolean higherIsBetter,
            double maxDrop,
            Measurement fp32,
            List<Trial> trials,
            int chosenTrial,
            List<String> sensitivityOrder,
            String ranking) {

        /**
         * Copies the lists.
         *
         * @param metric the metric's name
         * @param higherIsBetter whether higher values are better
         * @param maxDrop the largest acceptable drop
         * @param fp32 the fp32 measurement
         * @param trials the trials
         * @param chosenTrial the chosen trial's index
         * @param sensitivityOrder the ranking
         * @param ranking how it was ranked
         */
        public GoalResult {
            trials = List.copyOf(trials);
            sensitivityOrder = List.copyOf(sensitivityOrder);
        }

        /**
         * Returns the version the model is now.
         *
         * @return the chosen trial
         */
        public Trial chosen() {
            return trials.get(chosenTrial);
        }

        /**
         * Returns whether the model now meets the goal.
         *
         * @return whether the goal holds
         */
        public boolean met() {
            return chosen().meetsGoal();
        }
    }

    /**
     * One accuracy-recovery technique that ran: what it did, the whole model's SQNR without it
     * (the techniques before it in the flow only) and with it, and each layer it changed.
     *
     * @param technique "cross-layer equalization", "SmoothQuant" or "bias correction"
     * @param note what it did, one sentence (pairs or groups found, scales, shifts)
     * @param wholeBeforeDb the whole model's output SQNR vs fp32 without it (NaN if not measured)
     * @param wholeAfterDb the same with it
     * @param layers the layers it changed, with their SQNR before and after
     */
    public record Recovery(
            String technique,
            String note,
            double wholeBeforeDb,
            double wholeAfterDb,
            List<LayerChange> layers) {

        /**
         * Copies the list.
         *
         * @param technique the technique's name
         * @param note what it did
         * @param wholeBeforeDb the whole-model SQNR without it
         * @param wholeAfterDb the whole-model SQNR with it
         * @param layers the layers it changed
         */
        public Recovery {
            layers = List.copyOf(layers);
        }
    }

    /**
     * One layer's SQNR (in the mode it ended in, on its kept calibration inputs) without and with
     * a recovery technique.
     *
     * @param path the layer's path
     * @param beforeDb its SQNR without the technique (NaN if it was not int8 then)
     * @param afterDb its SQNR with it (NaN if it is not int8 now)
     */
    public record LayerChange(String path, double beforeDb, double afterDb) {}

    private final List<LayerReport> layers;
    private final List<Recovery> recovery;
    private final List<String> notes;
    private final Calibration calibration;
    private final long modelFloatBytes;
    private final long modelQuantizedBytes;
    private final Timing timing;
    private final HostProfile host;
    private final WholeModel wholeModel;
    private final List<String> warnings;
    private final Speed speed;
    private final GoalResult goal;

    QuantizationReport(
            List<LayerReport> layers,
            List<String> notes,
            Calibration calibration,
            long modelFloatBytes,
            long modelQuantizedBytes,
            Timing timing,
            HostProfile host,
            WholeModel wholeModel,
            Speed speed,
            GoalResult goal,
            List<String> warnings,
            List<Recovery> recovery) {
        this.layers = List.copyOf(layers);
        this.recovery = List.copyOf(recovery);
        this.notes = List.copyOf(notes);
        this.calibration = calibration;
        this.modelFloatBytes = modelFloatBytes;
        this.modelQuantizedBytes = modelQuantizedBytes;
        this.timing = timing;
        this.host = host;
        this.wholeModel = wholeModel;
        this.warnings = List.copyOf(warnings);
        this.speed = speed;
        this.goal = goal;
    }

    /**
     * Returns what each accuracy-recovery technique that ran did, in the order they ran, with
     * the whole-model and per-layer SQNR before and after it.
     *
     * @return one entry per technique turned on (empty if none was)
     */
    public List<Recovery> getRecovery() {
        return recovery;
    }

    /**
     * Returns what the accuracy goal found, if one was set.
     *
     * @return the trials and the chosen one, or null if no goal was set
     */
    public GoalResult getAccuracyGoal() {
        return goal;
    }

    /**
     * Returns the whole model's speed, fp32 against int8, at each serving batch size, with the
     * objective the plan was made for.
     *
     * @return the speed
     */
    public Speed getSpeed() {
        return speed;
    }

    /**
     * Returns the host the model was quantized on: its ISA as oneDNN sees it, activation bits,
     * threads and measured int8-vs-fp32 throughput ratio (the numbers the int8 layers' speed
     * depends on; an artifact moved to another host runs at that host's ratio).
     *
     * @return the host profile
     */
    public HostProfile getHost() {
        return host;
    }

    /**
     * Returns the whole model's output error against fp32.
     *
     * @return the whole-model error
     */
    public WholeModel getWholeModel() {
        return wholeModel;
    }

    /**
     * Returns the whole model's output SQNR against fp32 on calibration samples, in dB (NaN if not
     * measured).
     *
     * @return the SQNR in dB
     */
    public double getWholeModelSqnrDb() {
        return wholeModel.sqnrDb();
    }

    /**
     * Returns the warnings: the whole-model SQNR below its floor, or far below the worst layer's
     * (error accumulation). Each is also a note.
     *
     * @return the warnings, empty if none
     */
    public List<String> getWarnings() {
        return warnings;
    }

    /**
     * Returns how the model was calibrated.
     *
     * @return the calibration summary
     */
    public Calibration getCalibration() {
        return calibration;
    }

    /**
     * Returns where the time went.
     *
     * @return the timing
     */
    public Timing getTiming() {
        return timing;
    }

    /**
     * Returns the per-layer reports, in tree order.
     *
     * @return the layers
     */
    public List<LayerReport> getLayers() {
        return layers;
    }

    /**
     * Returns the report of the layer with a path, or null.
     *
     * @param path the layer's path
     * @return the layer's report, or null
     */
    public LayerReport getLayer(String path) {
        for (LayerReport l : layers) {
            if (l.getPath().equals(path)) {
                return l;
            }
        }
        return null;
    }

    /**
     * Returns notes on what was left alone (unregistered children, BatchNorms not folded, ...).
     *
     * @return the notes
     */
    public List<String> getNotes() {
        return notes;
    }

    /**
     * Returns the number of layers in a mode.
     *
     * @param mode a mode
     * @return the count
     */
    public int count(QuantizationMode mode) {
        int n = 0;
        for (LayerReport l : layers) {
            if (l.getMode() == mode) {
                n++;
            }
        }
        return n;
    }

    /**
     * Returns the number of layers in a weight-only mode (any format).
     *
     * @return the count
     */
    public int weightOnlyCount() {
        int n = 0;
        for (LayerReport l : layers) {
            if (l.getMode().isWeightOnly()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Returns the bytes of all the model's parameters before quantization.
     *
     * @return bytes
     */
    public long getModelFloatBytes() {
        return modelFloatBytes;
    }

    /**
     * Returns the bytes of all the model's parameters after quantization.
     *
     * @return bytes
     */
    public long getModelQuantizedBytes() {
        return modelQuantizedBytes;
    }

    /**
     * Returns the number of calibration samples run.
     *
     * @return the samples
     */
    public long getCalibrationSamples() {
        return calibration.samples();
    }

    /**
     * Returns the width of the activation grid of static layers on this machine (7 where the CPU
     * lacks VNNI, 8 otherwise).
     *
     * @return 7 or 8
     */
    public int getActivationBits() {
        return calibration.activationBits();
    }

    /**
     * Returns the wall-clock seconds of the whole quantization.
     *
     * @return seconds
     */
    public double getTotalSeconds() {
        return timing.totalSeconds();
    }

    /**
     * Formats the report as a text table, one row per layer, then the totals and notes.
     *
     * @return the table
     */
    public String toTable() {
        int pathWidth = 4;
        for (LayerReport l : layers) {
            pathWidth = Math.max(pathWidth, l.getPath().length());
        }
        String row = "%-" + pathWidth + "s  %-8s %-7s %10s %10s %11s %11s %13s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(
                String.format(
                        Locale.ROOT,
                        row,
                        "path",
                        "type",
                        "mode",
                        "static dB",
                        "dynamic dB",
                        "fp32 bytes",
                        "now bytes",
                        "fp32/int8 " + batchLabel(),
                        "why (fused)"));
        for (LayerReport l : layers) {
            String fused = "";
            if (l.getFoldedBatchNorm() != null) {
                fused += " +BN";
            }
            if ("relu6".equals(l.getFusedActivation())) {
                fused += " +ReLU6";
            } else if (l.getFusedRelu() != null) {
                fused += " +ReLU";
            }
            sb.append(
                    String.format(
                            Locale.ROOT,
                            row,
                            l.getPath(),
                            l.getBlockType(),
                            l.getMode(),
                            db(l.getStaticSqnrDb()),
                            db(l.getDynamicSqnrDb()),
                            l.getFloatBytes(),
                            l.getQuantizedBytes(),
                            speedups(l.getSpeeds()),
                            l.getReason()
                                    + (l.getWeightFormat() == null
                                            ? ""
                                            : "; " + l.getWeightFormat() + " " + db(l.getWeightOnlySqnrDb()) + " dB")
                                    + (fused.isEmpty() ? "" : " (" + fused.trim() + ")")));
        }
        sb.append(
                String.format(
                        Locale.ROOT,
                        "%d static, %d dynamic, %d weight-only, %d fp32; parameters %d -> %d bytes"
                                + " (%.3fx); SQNR in dB of each layer's output vs fp32%n",
                        count(QuantizationMode.STATIC),
                        count(QuantizationMode.DYNAMIC),
                        weightOnlyCount(),
                        count(QuantizationMode.FP32),
                        modelFloatBytes,
                        modelQuantizedBytes,
                        modelFloatBytes == 0 ? 0.0 : (double) modelQuantizedBytes / modelFloatBytes));
        sb.append(
                String.format(
                        Locale.ROOT,
                        "calibration: %d samples in %d batches from %s; observer %s, estimator %s,"
                                + " %d-bit activations, %s backend; AUTO margin %.1f dB, floor"
                                + " %.1f dB; %.1f s (calibrate %.1f s, decide %.1f s)%n",
                        calibration.samples(),
                        calibration.batches(),
                        calibration.source(),
                        calibration.observer(),
                        calibration.estimator(),
                        calibration.activationBits(),
                        calibration.backend(),
                        calibration.marginDb(),
                        calibration.floorDb(),
                        timing.totalSeconds(),
                        timing.calibrationSeconds(),
                        timing.decideSeconds()));
        sb.append(host.toLine()).append(System.lineSeparator());
        sb.append(wholeModelLine()).append(System.lineSeparator());
        sb.append(speedLine()).append(System.lineSeparator());
        if (goal != null) {
            sb.append(goalLines());
        }
        sb.append(recoveryLines());
        for (String n : notes) {
            sb.append("note: ").append(n).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /**
     * Writes the report as JSON (numbers that were not measured are left out).
     *
     * @return the JSON text
     */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("formatVersion", 1);
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("static", count(QuantizationMode.STATIC));
        totals.put("dynamic", count(QuantizationMode.DYNAMIC));
        totals.put("fp32", count(QuantizationMode.FP32));
        totals.put("weightOnly", weightOnlyCount());
        totals.put("modelFloatBytes", modelFloatBytes);
        totals.put("modelQuantizedBytes", modelQuantizedBytes);
        m.put("totals", totals);
        Map<String, Object> cal = new LinkedHashMap<>();
        cal.put("source", calibration.source());
        cal.put("samples", calibration.samples());
        cal.put("batches", calibration.batches());
        cal.put("observer", calibration.observer());
        cal.put("estimator", calibration.estimator());
        cal.put("activationBits", calibration.activationBits());
        cal.put("backend", calibration.backend());
        cal.put("autoMarginDb", calibration.marginDb());
        cal.put("autoFloorDb", calibration.floorDb());
        // "planSeconds": the name of the decide step's time in format version 1
        cal.put("calibrationSeconds", jsonNumber(timing.calibrationSeconds()));
        cal.put("planSeconds", jsonNumber(timing.decideSeconds()));
        cal.put("totalSeconds", jsonNumber(timing.totalSeconds()));
        m.put("calibration", cal);
        List<Object> list = new ArrayList<>();
        for (LayerReport l : layers) {
            list.add(l.toMap());
        }
        m.put("layers", list);
        m.put("notes", notes);
        // added after format version 1's fields; readers of version 1 ignore it
        m.put("host", host.toMap());
        Map<String, Object> whole = new LinkedHashMap<>();
        whole.put("sqnrDb", jsonNumber(wholeModel.sqnrDb()));
        whole.put("exact", wholeModel.sqnrDb() == Double.POSITIVE_INFINITY);
        whole.put("samples", wholeModel.samples());
        whole.put("batches", wholeModel.batches());
        whole.put("worstLayerSqnrDb", jsonNumber(wholeModel.worstLayerSqnrDb()));
        whole.put("worstLayer", wholeModel.worstLayer());
        whole.put("floorDb", wholeModel.floorDb());
        whole.put("marginDb", wholeModel.marginDb());
        whole.put("unmeasured", wholeModel.unmeasured());
        whole.put("warnings", warnings);
        m.put("wholeModel", whole);
        Map<String, Object> sp = new LinkedHashMap<>();
        sp.put("objective", speed.objective().name());
        sp.put("servingBatchSizes", speed.servingBatchSizes());
        List<Object> timed = new ArrayList<>();
        for (SpeedComparison c : speed.model()) {
            timed.add(c.toMap());
        }
        sp.put("model", timed);
        sp.put("unmeasured", speed.unmeasured());
        m.put("speed", sp);
        // added after format version 1's fields, only where a technique ran
        if (!recovery.isEmpty()) {
            List<Object> rs = new ArrayList<>();
            for (Recovery r : recovery) {
                Map<String, Object> rm = new LinkedHashMap<>();
                rm.put("technique", r.technique());
                rm.put("note", r.note());
                rm.put("wholeBeforeDb", jsonNumber(r.wholeBeforeDb()));
                rm.put("wholeAfterDb", jsonNumber(r.wholeAfterDb()));
                List<Object> ls = new ArrayList<>();
                for (LayerChange c : r.layers()) {
                    Map<String, Object> lm = new LinkedHashMap<>();
                    lm.put("path", c.path());
                    lm.put("beforeDb", jsonNumber(c.beforeDb()));
                    lm.put("afterDb", jsonNumber(c.afterDb()));
                    ls.add(lm);
                }
                rm.put("layers", ls);
                rs.add(rm);
            }
            m.put("recovery", rs);
        }
        if (goal != null) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("metric", goal.metric());
            g.put("higherIsBetter", goal.higherIsBetter());
            g.put("maxDrop", goal.maxDrop());
            g.put("fp32", goal.fp32().value());
            g.put("fp32Seconds", goal.fp32().seconds());
            g.put("met", goal.met());
            g.put("chosenTrial", goal.chosenTrial());
            List<Object> ts = new ArrayList<>();
            for (Trial t : goal.trials()) {
                Map<String, Object> tm = new LinkedHashMap<>();
                tm.put("number", t.number());
                tm.put("restoredToFp32", t.restoredToFp32());
                tm.put("value", t.value());
                tm.put("drop", t.drop());
                tm.put("meetsGoal", t.meetsGoal());
                tm.put("seconds", t.seconds());
                ts.add(tm);
            }
            g.put("trials", ts);
            g.put("sensitivityOrder", goal.sensitivityOrder());
            g.put("ranking", goal.ranking());
            m.put("accuracyGoal", g);
        }
        return JsonUtils.GSON_PRETTY.toJson(m);
    }

    /**
     * Writes the report as one self-contained HTML page (warnings, summary, per-layer table with
     * SQNR bars and times, calibration histograms); {@link HtmlReport} adds a title and top-1.
     *
     * @return the HTML text
     */
    public String toHtml() {
        return HtmlReport.fromJson(toJson()).toHtml();
    }

    /**
     * Writes {@link #toHtml()} to a file (UTF-8), replacing it.
     *
     * @param file the file to write
     * @throws IOException if it cannot be written
     */
    public void writeHtml(Path file) throws IOException {
        HtmlReport.fromJson(toJson()).write(file);
    }

    private String recoveryLines() {
        StringBuilder sb = new StringBuilder();
        for (Recovery r : recovery) {
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "recovery: %s: whole model %s -> %s dB; %s%n",
                            r.technique(),
                            db(r.wholeBeforeDb()),
                            db(r.wholeAfterDb()),
                            r.note()));
            for (LayerChange c : r.layers()) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "  %s: %s -> %s dB%n",
                                c.path(),
                                db(c.beforeDb()),
                                db(c.afterDb())));
            }
        }
        return sb.toString();
    }

    private String wholeModelLine() {
        WholeModel w = wholeModel;
        if (w.unmeasured() != null) {
            return "whole model: SQNR vs fp32 not measured (" + w.unmeasured() + ")";
        }
        return String.format(
                Locale.ROOT,
                "whole model: SQNR %s dB vs fp32 on %d calibration samples (%d batches); worst"
                        + " int8 layer %s dB%s; warns under %.1f dB or %.1f dB below the worst"
                        + " layer",
                db(w.sqnrDb()),
                w.samples(),
                w.batches(),
                db(w.worstLayerSqnrDb()),
                w.worstLayer() == null ? "" : " (" + w.worstLayer() + ")",
                w.floorDb(),
                w.marginDb());
    }

    /** The batch sizes of the speed column, e.g. "b1/b32". */
    private String batchLabel() {
        StringBuilder b = new StringBuilder();
        for (int n : speed.servingBatchSizes()) {
            b.append(b.length() == 0 ? "b" : "/b").append(n);
        }
        return b.toString();
    }

    private static String speedups(List<SpeedComparison> speeds) {
        if (speeds.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (SpeedComparison c : speeds) {
            b.append(b.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.2f", c.speedup()));
        }
        return b.toString();
    }

    private String speedLine() {
        StringBuilder b = new StringBuilder("speed: objective ").append(speed.objective());
        if (speed.model().isEmpty()) {
            b.append("; whole model not timed");
        } else {
            b.append("; whole model fp32/int8 (above 1: int8 faster) ");
            for (int i = 0; i < speed.model().size(); i++) {
                SpeedComparison c = speed.model().get(i);
                b.append(i == 0 ? "" : ", ")
                        .append(c.describe())
                        .append(c.verdict() == SpeedComparison.Verdict.SLOWER ? " SLOWER" : "");
            }
        }
        if (speed.unmeasured() != null) {
            b.append(" (").append(speed.unmeasured()).append(')');
        }
        return b.toString();
    }

    private String goalLines() {
        StringBuilder b = new StringBuilder();
        Trial c = goal.chosen();
        b.append(
                String.format(
                        Locale.ROOT,
                        "accuracy goal: %s at most %s below fp32 %s (%s); %s: %s %s%n",
                        goal.metric(),
                        GoalSearch.num(goal.maxDrop()),
                        GoalSearch.num(goal.fp32().value()),
                        goal.higherIsBetter() ? "higher is better" : "lower is better",
                        goal.met() ? "met" : "NOT MET, best model found kept",
                        GoalSearch.num(c.value()),
                        c.restoredToFp32().isEmpty()
                                ? "with no layer restored"
                                : "with " + c.restoredToFp32().size() + " layer(s) restored to fp32"));
        for (Trial t : goal.trials()) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "  trial %d: %s %s (drop %s)%s, %.1f s; restored: %s%n",
                            t.number(),
                            goal.metric(),
                            GoalSearch.num(t.value()),
                            GoalSearch.num(t.drop()),
                            t.meetsGoal() ? " meets the goal" : "",
                            t.seconds(),
                            t.restoredToFp32().isEmpty() ? "none" : String.join(", ", t.restoredToFp32())));
        }
        if (goal.ranking() != null) {
            b.append("  ranked by ").append(goal.ranking()).append(System.lineSeparator());
        }
        return b.toString();
    }

    /** A finite number, or null (JSON has no NaN or infinity). */
    static Double jsonNumber(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String db(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return Double.isInfinite(v) ? "exact" : String.format(Locale.ROOT, "%.1f", v);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return toTable();
    }
}
