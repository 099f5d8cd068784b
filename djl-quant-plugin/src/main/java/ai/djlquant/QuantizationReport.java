package ai.djlquant;

import ai.djl.util.JsonUtils;
import ai.djlquant.plan.QuantizationMode;

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

    private final List<LayerReport> layers;
    private final List<String> notes;
    private final Calibration calibration;
    private final long modelFloatBytes;
    private final long modelQuantizedBytes;
    private final Timing timing;
    private final HostProfile host;
    private final WholeModel wholeModel;
    private final List<String> warnings;

    QuantizationReport(
            List<LayerReport> layers,
            List<String> notes,
            Calibration calibration,
            long modelFloatBytes,
            long modelQuantizedBytes,
            Timing timing,
            HostProfile host,
            WholeModel wholeModel,
            List<String> warnings) {
        this.layers = List.copyOf(layers);
        this.notes = List.copyOf(notes);
        this.calibration = calibration;
        this.modelFloatBytes = modelFloatBytes;
        this.modelQuantizedBytes = modelQuantizedBytes;
        this.timing = timing;
        this.host = host;
        this.wholeModel = wholeModel;
        this.warnings = List.copyOf(warnings);
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
     * @param mode STATIC, DYNAMIC or FP32
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
        String row = "%-" + pathWidth + "s  %-8s %-7s %8s %8s %11s %11s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(
                String.format(
                        Locale.ROOT,
                        row,
                        "path",
                        "type",
                        "mode",
                        "static",
                        "dynamic",
                        "fp32 bytes",
                        "now bytes",
                        "why (fused)"));
        for (LayerReport l : layers) {
            String fused = "";
            if (l.getFoldedBatchNorm() != null) {
                fused += " +BN";
            }
            if (l.getFusedRelu() != null) {
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
                            l.getReason() + (fused.isEmpty() ? "" : " (" + fused.trim() + ")")));
        }
        sb.append(
                String.format(
                        Locale.ROOT,
                        "%d static, %d dynamic, %d fp32; parameters %d -> %d bytes (%.3fx);"
                                + " SQNR in dB of each layer's output vs fp32%n",
                        count(QuantizationMode.STATIC),
                        count(QuantizationMode.DYNAMIC),
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
        return JsonUtils.GSON_PRETTY.toJson(m);
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
