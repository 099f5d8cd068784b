package ai.djlquant;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A quantization report as one self-contained HTML page: warnings first, the model summary
 * (bytes, top-1 where measured, whole-model SQNR, speed per serving batch size, the host, the
 * accuracy goal's trials), the per-layer table with SQNR bars and times, and each layer's
 * calibration histogram with the static range marked. The charts are inline SVG and the page
 * has no external resource (its content security policy forbids any), so it opens offline.
 *
 * <p>It is made from the report's JSON ({@link QuantizationReport#toJson()}), so the same page
 * comes from a live report and from the report an artifact's {@code quantization.json} stores.
 * Reports written before a field existed (host, speed, histograms) give a page without it.
 */
public final class HtmlReport {

    /**
     * Top-1 accuracy of the fp32 and int8 models, measured by the caller (the report itself
     * holds no accuracy: the quantizer never sees labels).
     *
     * @param dataset what it was measured on, described
     * @param samples the number of samples
     * @param fp32 the fp32 model's top-1, a fraction in [0, 1]
     * @param int8 the int8 model's top-1, a fraction in [0, 1]
     */
    public record Top1(String dataset, long samples, double fp32, double int8) {}

    /** The default title. */
    public static final String DEFAULT_TITLE = "djl-quant quantization report";

    private final JsonObject report;
    private final String title;
    private final Top1 top1;

    private HtmlReport(JsonObject report, String title, Top1 top1) {
        this.report = report;
        this.title = title;
        this.top1 = top1;
    }

    /**
     * Reads a report's JSON, as {@link QuantizationReport#toJson()} writes it.
     *
     * @param reportJson the report's JSON text
     * @return the page, with the default title and no top-1
     * @throws IllegalArgumentException naming the field at fault if it is not such a report
     */
    public static HtmlReport fromJson(String reportJson) {
        JsonElement root;
        try {
            root = JsonParser.parseString(reportJson);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(
                    "the quantization report is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new IllegalArgumentException("the quantization report JSON is not an object.");
        }
        JsonObject o = root.getAsJsonObject();
        JsonElement version = o.get("formatVersion");
        if (version == null || !version.isJsonPrimitive() || version.getAsDouble() != 1) {
            throw new IllegalArgumentException(
                    "the quantization report's formatVersion is "
                            + version
                            + "; this page reads format version 1.");
        }
        JsonElement layers = o.get("layers");
        if (layers == null || !layers.isJsonArray()) {
            throw new IllegalArgumentException(
                    "the quantization report's field 'layers' is missing or not an array.");
        }
        for (int i = 0; i < layers.getAsJsonArray().size(); i++) {
            JsonElement l = layers.getAsJsonArray().get(i);
            if (!l.isJsonObject() || !l.getAsJsonObject().has("path")) {
                throw new IllegalArgumentException(
                        "the quantization report's layers[" + i + "] is not a layer (no 'path').");
            }
        }
        JsonElement totals = o.get("totals");
        if (totals == null || !totals.isJsonObject()) {
            throw new IllegalArgumentException(
                    "the quantization report's field 'totals' is missing or not an object.");
        }
        return new HtmlReport(o, DEFAULT_TITLE, null);
    }

    /**
     * Returns this page with another title (the model's name, say).
     *
     * @param newTitle the page's title
     * @return a new page
     */
    public HtmlReport withTitle(String newTitle) {
        return new HtmlReport(report, newTitle, top1);
    }

    /**
     * Returns this page with the top-1 accuracy of both models in its summary.
     *
     * @param accuracy the caller's measurement, or null for none
     * @return a new page
     */
    public HtmlReport withTop1(Top1 accuracy) {
        return new HtmlReport(report, title, accuracy);
    }

    /**
     * Writes the page.
     *
     * @return the HTML text, one self-contained document
     */
    public String toHtml() {
        return new ReportPage(report, title, top1).render();
    }

    /**
     * Writes the page to a file (UTF-8), replacing it.
     *
     * @param file the file to write
     * @throws IOException if it cannot be written
     */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toHtml(), StandardCharsets.UTF_8);
    }
}
