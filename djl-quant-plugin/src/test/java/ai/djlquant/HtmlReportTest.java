package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.plan.QuantizationMode;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The report's histograms (exact downsampling, counts that add up to what calibration saw, the
 * static range) and the HTML page made from the JSON: one row per layer, every section, no
 * external reference, escaping, older reports, bad JSON.
 */
class HtmlReportTest {

    static final int BATCHES = 16;
    static final Shape BATCH = new Shape(8, 3, 16, 16);

    private static QuantizationReport report;

    @BeforeAll
    static void quantize() {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), BATCHES, BATCH);
            report = Quantizer.quantize(model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
        }
    }

    /** A quantized residual CNN's report, made once for the tests of this module. */
    static QuantizationReport residualCnnReport() {
        if (report == null) {
            quantize();
        }
        return report;
    }

    @Test
    void downsamplingMergesNeighbouringBinsExactly() {
        long[] counts = new long[2048];
        counts[10] = 3; // first occupied bin
        counts[11] = 4;
        counts[1000] = 7;
        counts[1033] = 1; // last occupied bin: 1024 bins span, merged 8 to 1
        LayerReport.Histogram h = LayerReport.Histogram.downsample(counts, -2.0, 0.25);
        assertNotNull(h);
        assertEquals(-2.0 + 10 * 0.25, h.start());
        assertEquals(0.25 * 8, h.binWidth());
        assertEquals(128, h.counts().size());
        assertEquals(7L, h.counts().get(0)); // bins 10..17
        assertEquals(7L, h.counts().get((1000 - 10) / 8));
        assertEquals(1L, h.counts().get(127));
        assertEquals(15L, h.counts().stream().mapToLong(Long::longValue).sum());
        assertNull(LayerReport.Histogram.downsample(new long[64], 0, 1));
        // few occupied bins stay as they are
        long[] few = new long[2048];
        few[5] = 2;
        few[6] = 9;
        LayerReport.Histogram f = LayerReport.Histogram.downsample(few, 0, 1);
        assertEquals(List.of(2L, 9L), f.counts());
        assertEquals(5.0, f.start());
    }

    @Test
    void everyObservedLayerCarriesItsHistogramAndStaticRange() {
        QuantizationReport r = residualCnnReport();
        LayerReport first = r.getLayers().get(0);
        LayerReport.Histogram h = first.getInputHistogram();
        assertNotNull(h, first.toString());
        assertTrue(h.counts().size() <= LayerReport.Histogram.MAX_BINS);
        // the first conv sees every calibration value, all finite
        assertEquals(BATCHES * BATCH.size(), h.counts().stream().mapToLong(Long::longValue).sum());
        LayerReport.Range seen = first.getInputBounds();
        assertTrue(h.start() <= seen.min() && h.end() >= seen.max(), h + " " + seen);
        for (LayerReport l : r.getLayers()) {
            if (l.getMode() == QuantizationMode.STATIC) {
                LayerReport.Range g = l.getActivationRange();
                assertNotNull(g, l.toString());
                assertTrue(g.min() <= 0 && g.max() > 0, l + " " + g);
            } else {
                assertNull(l.getActivationRange(), l.toString());
            }
        }
        JsonObject json = JsonParser.parseString(r.toJson()).getAsJsonObject();
        JsonObject layer0 = json.getAsJsonArray("layers").get(0).getAsJsonObject();
        JsonObject jh = layer0.getAsJsonObject("inputHistogram");
        assertEquals(h.counts().size(), jh.getAsJsonArray("counts").size());
        assertEquals(h.binWidth(), jh.get("binWidth").getAsDouble());
        assertEquals(first.getMode() == QuantizationMode.STATIC, layer0.has("activationRange"));
    }

    @Test
    void pageHasOneRowPerLayerAndEverySection() {
        QuantizationReport r = residualCnnReport();
        String html =
                HtmlReport.fromJson(r.toJson())
                        .withTitle("residual <cnn> & co")
                        .withTop1(new HtmlReport.Top1("test split", 1000, 0.9127, 0.9136))
                        .toHtml();
        assertEquals(r.getLayers().size(), count(html, "<tr class=\"layer\">"));
        long withHistogram =
                r.getLayers().stream().filter(l -> l.getInputHistogram() != null).count();
        assertTrue(withHistogram > 0);
        assertEquals(withHistogram, count(html, "<figure id=\"hist-"));
        assertTrue(html.contains("<title>residual &lt;cnn&gt; &amp; co</title>"), html);
        assertTrue(html.contains("fp32 91.27% → int8 91.36% (+0.09 points) on 1000 samples"));
        assertTrue(html.contains("id=\"warnings\""));
        assertTrue(html.indexOf("id=\"warnings\"") < html.indexOf("<h2>Model</h2>"));
        assertTrue(html.contains(ReportPage.escape(ReportPage.hostLine(hostJson(r)))));
        assertTrue(html.contains("whole-model SQNR"));
        assertTrue(html.contains("class=\"range\""), "a static layer's range is marked");
        // offline: no URL of any scheme, and a policy that forbids fetching anything
        assertFalse(html.contains("://"), "the page references a URL");
        assertTrue(html.contains("default-src 'none'"));
        // the report's own page is the page of its JSON
        assertEquals(HtmlReport.fromJson(r.toJson()).toHtml(), r.toHtml());
    }

    @Test
    void aReportWithoutTheLaterFieldsStillRenders() {
        JsonObject json = JsonParser.parseString(residualCnnReport().toJson()).getAsJsonObject();
        json.remove("host");
        json.remove("speed");
        json.remove("wholeModel");
        for (JsonElement l : json.getAsJsonArray("layers")) {
            l.getAsJsonObject().remove("inputHistogram");
            l.getAsJsonObject().remove("speeds");
        }
        String html = HtmlReport.fromJson(json.toString()).toHtml();
        assertEquals(json.getAsJsonArray("layers").size(), count(html, "<tr class=\"layer\">"));
        assertFalse(html.contains("<figure"));
        assertTrue(html.contains("No warnings."));
    }

    @Test
    void speedAndGoalSectionsComeFromTheJson() {
        JsonObject json = JsonParser.parseString(residualCnnReport().toJson()).getAsJsonObject();
        JsonObject speed = json.getAsJsonObject("speed");
        speed.add("servingBatchSizes", JsonParser.parseString("[1, 32]"));
        speed.add(
                "model",
                JsonParser.parseString(
                        "[{\"batchSize\": 1, \"fp32Micros\": 803.0, \"int8Micros\": 551.0,"
                                + " \"speedup\": 1.46, \"speedupLowQuartile\": 1.4,"
                                + " \"speedupHighQuartile\": 1.5, \"rounds\": 7, \"verdict\": \"FASTER\"},"
                                + " {\"batchSize\": 32, \"fp32Micros\": 5680.0, \"int8Micros\": 6130.0,"
                                + " \"speedup\": 0.93, \"speedupLowQuartile\": 0.9,"
                                + " \"speedupHighQuartile\": 0.95, \"rounds\": 7, \"verdict\": \"SLOWER\"}]"));
        json.getAsJsonArray("layers")
                .get(0)
                .getAsJsonObject()
                .add(
                        "speeds",
                        JsonParser.parseString(
                                "[{\"batchSize\": 32, \"fp32Micros\": 1234.0, \"int8Micros\": 99.0,"
                                        + " \"verdict\": \"FASTER\"}]"));
        json.add(
                "accuracyGoal",
                JsonParser.parseString(
                        "{\"metric\": \"top-1\", \"higherIsBetter\": true, \"maxDrop\": 0.01,"
                                + " \"fp32\": 0.92, \"met\": true, \"chosenTrial\": 1, \"trials\": ["
                                + "{\"number\": 0, \"restoredToFp32\": [], \"value\": 0.9,"
                                + " \"drop\": 0.02, \"meetsGoal\": false, \"seconds\": 1.5},"
                                + "{\"number\": 1, \"restoredToFp32\": [\"01Conv2d\"], \"value\": 0.915,"
                                + " \"drop\": 0.005, \"meetsGoal\": true, \"seconds\": 1.4}]}"));
        String html = HtmlReport.fromJson(json.toString()).toHtml();
        assertTrue(html.contains("<th class=\"n\">b32 fp32</th><th class=\"n\">b32 int8</th>"));
        assertTrue(html.contains(">1.23 ms</td>"), "the layer's fp32 time at batch 32");
        assertTrue(html.contains(">99 µs</td>"), "the layer's int8 time at batch 32");
        assertEquals(2, count(html, "<tr><td class=\"n\">") - count(html, "<tr><td class=\"n\">0</td><td class=\"n\">"));
        assertTrue(html.contains("0.93x [0.90, 0.95]</td><td class=\"slow\">SLOWER"));
        assertTrue(html.contains("<tr class=\"chosen\"><td class=\"n\">1 (kept)"));
        assertTrue(html.contains("01Conv2d"));
    }

    @Test
    void badReportJsonNamesTheFieldAtFault() {
        assertTrue(message("{").startsWith("the quantization report is not valid JSON"));
        assertEquals("the quantization report JSON is not an object.", message("[1]"));
        assertTrue(message("{\"formatVersion\": 2, \"layers\": []}").contains("formatVersion is 2"));
        assertEquals(
                "the quantization report's field 'layers' is missing or not an array.",
                message("{\"formatVersion\": 1}"));
        assertEquals(
                "the quantization report's layers[0] is not a layer (no 'path').",
                message("{\"formatVersion\": 1, \"layers\": [{}], \"totals\": {}}"));
        assertEquals(
                "the quantization report's field 'totals' is missing or not an object.",
                message("{\"formatVersion\": 1, \"layers\": []}"));
        JsonObject json = JsonParser.parseString(residualCnnReport().toJson()).getAsJsonObject();
        JsonArray layers = json.getAsJsonArray("layers");
        layers.get(0).getAsJsonObject().getAsJsonObject("inputHistogram").remove("binWidth");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> HtmlReport.fromJson(json.toString()).toHtml());
        assertEquals(
                "the quantization report's layers[0].inputHistogram needs start, binWidth and"
                        + " counts.",
                e.getMessage());
    }

    private static JsonObject hostJson(QuantizationReport r) {
        return JsonParser.parseString(r.toJson()).getAsJsonObject().getAsJsonObject("host");
    }

    private static String message(String json) {
        return assertThrows(IllegalArgumentException.class, () -> HtmlReport.fromJson(json))
                .getMessage();
    }

    static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
