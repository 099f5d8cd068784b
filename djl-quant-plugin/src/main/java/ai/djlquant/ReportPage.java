// Over 300 lines: one method per section of the page, each reading its part of the report JSON.
package ai.djlquant;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The markup of {@link HtmlReport}: one method per section, each reading its part of the report
 * JSON (and leaving out what an older report lacks). The page's own script only filters the
 * layer table and records, for tests, whether any script error or blocked request happened.
 */
final class ReportPage {

    /** Nothing may be fetched: any attempt is a policy violation the page records and shows. */
    private static final String POLICY =
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline';"
                    + " img-src data:";

    // The first script, in <head>: it must run before anything else can fail, so that every
    // error, console.error and blocked request is counted; at load it writes the outcome into
    // the document (data-report-status), which a headless browser's DOM dump shows.
    private static final String WATCH_SCRIPT =
            """
            window.reportProblems = [];
            window.addEventListener('error', function (e) {
              window.reportProblems.push('error: ' + (e.message || e.type));
            });
            document.addEventListener('securitypolicyviolation', function (e) {
              window.reportProblems.push('blocked: ' + e.blockedURI);
            });
            (function () {
              var original = console.error;
              console.error = function () {
                window.reportProblems.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
                return original.apply(console, arguments);
              };
            })();
            window.addEventListener('load', function () {
              var root = document.documentElement;
              root.setAttribute('data-layer-rows', String(document.querySelectorAll('tr.layer').length));
              root.setAttribute('data-report-status',
                  window.reportProblems.length === 0 ? 'ok' : window.reportProblems.join(' | '));
            });
            """;

    private static final String FILTER_SCRIPT =
            """
            (function () {
              var input = document.getElementById('layer-filter');
              var rows = document.querySelectorAll('tr.layer');
              var shown = document.getElementById('layer-count');
              input.addEventListener('input', function () {
                var q = input.value.toLowerCase();
                var n = 0;
                rows.forEach(function (r) {
                  var hit = r.textContent.toLowerCase().indexOf(q) >= 0;
                  r.style.display = hit ? '' : 'none';
                  if (hit) { n++; }
                });
                shown.textContent = String(n);
              });
            })();
            """;

    private static final String STYLE =
            """
            body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px;
                   color: #1d2430; background: #fff; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
            .sub { color: #5b6575; margin-bottom: 16px; }
            .warnings { border: 2px solid #c62828; background: #fdecea; padding: 8px 14px;
                        border-radius: 6px; }
            .warnings h2 { color: #b71c1c; margin-top: 4px; }
            .no-warnings { border: 1px solid #2e7d32; background: #edf7ed; padding: 6px 14px;
                           border-radius: 6px; }
            table { border-collapse: collapse; margin: 6px 0; }
            #speed td, #layers td.n { white-space: nowrap; }
            .scroll { overflow-x: auto; }
            th, td { border-bottom: 1px solid #e3e6ea; padding: 3px 8px; text-align: left;
                     vertical-align: middle; }
            th { background: #f3f5f8; font-weight: 600; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            table.summary th { width: 190px; background: none; vertical-align: top; }
            .mode { font-weight: 600; padding: 1px 6px; border-radius: 4px; font-size: 12px; }
            .mode-STATIC { background: #dbeafe; color: #1e40af; }
            .mode-DYNAMIC { background: #ede9fe; color: #5b21b6; }
            .mode-FP32 { background: #eceff1; color: #37474f; }
            [class*="mode-WEIGHT_"] { background: #dcfce7; color: #166534; }
            .path { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; }
            .why { color: #4a5361; font-size: 12px; min-width: 320px; max-width: 460px; }
            td.sqnr { white-space: nowrap; }
            svg.bar { vertical-align: middle; } .bar .track { fill: #eef1f4; }
            .bar .good { fill: #3b82f6; } .bar .low { fill: #dc2626; } .bar .fp32 { fill: #94a3b8; }
            .bar .int8 { fill: #16a34a; } .bar .slower { fill: #dc2626; }
            .num { font-variant-numeric: tabular-nums; font-size: 12px; }
            .slow { color: #b71c1c; font-weight: 600; }
            .hists { display: flex; flex-wrap: wrap; gap: 14px; }
            figure { margin: 0; border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px; }
            figcaption { font-size: 12px; color: #4a5361; max-width: 560px; }
            .hist .plot { fill: #fafbfc; stroke: #d5dae0; } .hist .count { fill: #3b82f6; }
            .hist .clipped { fill: #dc2626; } .hist .range { fill: #16a34a; fill-opacity: 0.12; }
            .hist .edge { stroke: #15803d; stroke-width: 1.5; }
            .hist .zero { stroke: #64748b; stroke-dasharray: 2 2; }
            .hist text { font-size: 10px; fill: #4a5361; } .hist .edge-label { fill: #15803d; }
            .chosen { background: #fff8e1; }
            input#layer-filter { font: inherit; padding: 2px 6px; width: 260px; }
            .notes li { color: #4a5361; }
            """;

    private final JsonObject r;
    private final String title;
    private final HtmlReport.Top1 top1;
    private final List<Integer> batchSizes = new ArrayList<>();
    private final double floorDb;

    ReportPage(JsonObject report, String title, HtmlReport.Top1 top1) {
        this.r = report;
        this.title = title;
        this.top1 = top1;
        JsonObject speed = object(report, "speed");
        if (speed != null && speed.get("servingBatchSizes") instanceof JsonArray a) {
            for (JsonElement e : a) {
                batchSizes.add(e.getAsInt());
            }
        }
        Double f = num(object(report, "calibration"), "autoFloorDb");
        floorDb = f == null ? 20 : f;
    }

    String render() {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\" data-report-status=\"loading\">\n<head>\n")
                .append("<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"")
                .append(POLICY)
                .append("\">\n<meta name=\"viewport\" content=\"width=device-width\">\n")
                .append("<title>")
                .append(escape(title))
                .append("</title>\n<style>\n")
                .append(STYLE)
                .append("</style>\n<script>\n")
                .append(WATCH_SCRIPT)
                .append("</script>\n</head>\n<body>\n<h1>")
                .append(escape(title))
                .append("</h1>\n<div class=\"sub\">")
                .append(escape(subtitle()))
                .append("</div>\n");
        warnings(h);
        summary(h);
        speed(h);
        goal(h);
        recovery(h);
        layers(h);
        histograms(h);
        notes(h);
        h.append("<script>\n").append(FILTER_SCRIPT).append("</script>\n</body>\n</html>\n");
        return h.toString();
    }

    private String subtitle() {
        JsonObject cal = object(r, "calibration");
        String s = "report format version 1";
        if (cal != null) {
            s += "; calibrated on " + text(cal, "samples") + " samples in " + text(cal, "batches")
                    + " batches from " + text(cal, "source");
        }
        return s;
    }

    private void warnings(StringBuilder h) {
        List<String> list = strings(object(r, "wholeModel"), "warnings");
        if (list.isEmpty()) {
            h.append("<div class=\"no-warnings\" id=\"warnings\">No warnings.</div>\n");
            return;
        }
        h.append("<div class=\"warnings\" id=\"warnings\"><h2>Warnings (")
                .append(list.size())
                .append(")</h2><ul>");
        for (String w : list) {
            h.append("<li>").append(escape(w)).append("</li>");
        }
        h.append("</ul></div>\n");
    }

    private void summary(StringBuilder h) {
        JsonObject totals = object(r, "totals");
        h.append("<h2>Model</h2>\n<table class=\"summary\">\n");
        long before = longOf(totals, "modelFloatBytes");
        long after = longOf(totals, "modelQuantizedBytes");
        row(
                h,
                "parameters",
                String.format(
                        Locale.ROOT,
                        "%,d &rarr; %,d bytes (%.3fx)",
                        before,
                        after,
                        before == 0 ? 0.0 : (double) after / before));
        row(
                h,
                "layers",
                escape(
                        text(totals, "static") + " static, " + text(totals, "dynamic")
                                + " dynamic, "
                                // a report written before weight-only modes has no such count
                                + (text(totals, "weightOnly").isEmpty()
                                        ? ""
                                        : text(totals, "weightOnly") + " weight-only, ")
                                + text(totals, "fp32") + " fp32"));
        if (top1 != null) {
            row(
                    h,
                    "top-1",
                    escape(
                            String.format(
                                    Locale.ROOT,
                                    "fp32 %.2f%% → int8 %.2f%% (%+.2f points) on %d samples of %s",
                                    top1.fp32() * 100,
                                    top1.int8() * 100,
                                    (top1.int8() - top1.fp32()) * 100,
                                    top1.samples(),
                                    top1.dataset())));
        }
        JsonObject w = object(r, "wholeModel");
        if (w != null) {
            String line;
            if (!text(w, "unmeasured").isEmpty()) {
                line = "not measured (" + text(w, "unmeasured") + ")";
            } else {
                line = (Boolean.TRUE.equals(bool(w, "exact")) ? "exact" : db(num(w, "sqnrDb")) + " dB")
                        + " vs fp32 on " + text(w, "samples") + " calibration samples ("
                        + text(w, "batches") + " batches); worst int8 layer "
                        + db(num(w, "worstLayerSqnrDb")) + " dB"
                        + (text(w, "worstLayer").isEmpty() ? "" : " (" + text(w, "worstLayer") + ")");
            }
            row(h, "whole-model SQNR", escape(line));
        }
        JsonObject host = object(r, "host");
        if (host != null) {
            row(h, "host", escape(hostLine(host)));
        }
        JsonObject cal = object(r, "calibration");
        if (cal != null) {
            row(
                    h,
                    "calibration",
                    escape(
                            String.format(
                                    Locale.ROOT,
                                    "observer %s, estimator %s, %s-bit activations, %s backend;"
                                            + " AUTO margin %s dB, floor %s dB; %s s in all"
                                            + " (calibrate %s s, decide %s s)",
                                    text(cal, "observer"),
                                    text(cal, "estimator"),
                                    text(cal, "activationBits"),
                                    text(cal, "backend"),
                                    number(num(cal, "autoMarginDb")),
                                    number(num(cal, "autoFloorDb")),
                                    fixed(num(cal, "totalSeconds"), 1),
                                    fixed(num(cal, "calibrationSeconds"), 1),
                                    fixed(num(cal, "planSeconds"), 1))));
        }
        h.append("</table>\n");
    }

    /** The report's host line, as {@link HostProfile#toLine()} prints it. */
    static String hostLine(JsonObject host) {
        return String.format(
                Locale.ROOT,
                "%s (%s backend, %s), %s-bit activations, %s threads; GEMM %s int8 %s GOPS vs"
                        + " fp32 %s GFLOPS = %sx; %s",
                text(host, "isa"),
                text(host, "backend"),
                text(host, "implementation"),
                text(host, "activationBits"),
                text(host, "threads"),
                text(host, "probeShape"),
                fixed(num(host, "int8Gops"), 1),
                fixed(num(host, "fp32Gflops"), 1),
                fixed(num(host, "ratio"), 2),
                text(host, "sentence"));
    }

    private void speed(StringBuilder h) {
        JsonObject sp = object(r, "speed");
        if (sp == null) {
            return;
        }
        h.append("<h2>Speed</h2>\n<p>Objective ")
                .append(escape(text(sp, "objective")))
                .append("; the whole model, fp32 against int8, at each serving batch size")
                .append(" (speed-up above 1: int8 faster; median of alternating rounds, quartiles")
                .append(" of the per-round speed-up in brackets).</p>\n");
        JsonArray model = array(sp, "model");
        if (model == null || model.isEmpty()) {
            h.append("<p>Whole model not timed")
                    .append(text(sp, "unmeasured").isEmpty() ? "" : ": " + escape(text(sp, "unmeasured")))
                    .append(".</p>\n");
            return;
        }
        double slowest = 0;
        for (JsonElement e : model) {
            slowest = Math.max(slowest, Math.max(orZero(num(e, "fp32Micros")), orZero(num(e, "int8Micros"))));
        }
        h.append("<table id=\"speed\"><tr><th class=\"n\">batch</th><th>fp32</th><th>int8</th>")
                .append("<th class=\"n\">fp32/int8</th><th>verdict</th></tr>\n");
        for (JsonElement e : model) {
            boolean slower = "SLOWER".equals(text(e, "verdict"));
            h.append("<tr><td class=\"n\">")
                    .append(text(e, "batchSize"))
                    .append("</td><td>")
                    .append(SvgCharts.bar(orZero(num(e, "fp32Micros")), slowest, "fp32", micros(num(e, "fp32Micros"))))
                    .append("</td><td>")
                    .append(
                            SvgCharts.bar(
                                    orZero(num(e, "int8Micros")),
                                    slowest,
                                    slower ? "slower" : "int8",
                                    micros(num(e, "int8Micros"))))
                    .append("</td><td class=\"n\">")
                    .append(fixed(num(e, "speedup"), 2))
                    .append("x [")
                    .append(fixed(num(e, "speedupLowQuartile"), 2))
                    .append(", ")
                    .append(fixed(num(e, "speedupHighQuartile"), 2))
                    .append("]</td><td")
                    .append(slower ? " class=\"slow\"" : "")
                    .append('>')
                    .append(escape(text(e, "verdict")))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private void goal(StringBuilder h) {
        JsonObject g = object(r, "accuracyGoal");
        if (g == null) {
            return;
        }
        h.append("<h2>Accuracy goal</h2>\n<p>")
                .append(escape(text(g, "metric")))
                .append(" at most ")
                .append(escape(number(num(g, "maxDrop"))))
                .append(" below fp32 ")
                .append(escape(number(num(g, "fp32"))))
                .append(" (")
                .append(Boolean.TRUE.equals(bool(g, "higherIsBetter")) ? "higher" : "lower")
                .append(" is better): ")
                .append(Boolean.TRUE.equals(bool(g, "met")) ? "met" : "<b class=\"slow\">NOT MET</b>, best model kept")
                .append(".</p>\n<table id=\"goal\"><tr><th class=\"n\">trial</th><th class=\"n\">value</th>")
                .append("<th class=\"n\">drop</th><th>meets</th><th class=\"n\">seconds</th>")
                .append("<th>restored to fp32</th></tr>\n");
        Double chosen = num(g, "chosenTrial");
        JsonArray trials = array(g, "trials");
        for (int i = 0; trials != null && i < trials.size(); i++) {
            JsonElement t = trials.get(i);
            List<String> restored = strings(t.getAsJsonObject(), "restoredToFp32");
            h.append(chosen != null && chosen.intValue() == i ? "<tr class=\"chosen\">" : "<tr>")
                    .append("<td class=\"n\">")
                    .append(text(t, "number"))
                    .append(chosen != null && chosen.intValue() == i ? " (kept)" : "")
                    .append("</td><td class=\"n\">")
                    .append(escape(number(num(t, "value"))))
                    .append("</td><td class=\"n\">")
                    .append(escape(number(num(t, "drop"))))
                    .append("</td><td>")
                    .append(Boolean.TRUE.equals(bool(t.getAsJsonObject(), "meetsGoal")) ? "yes" : "no")
                    .append("</td><td class=\"n\">")
                    .append(fixed(num(t, "seconds"), 1))
                    .append("</td><td class=\"path\">")
                    .append(restored.isEmpty() ? "none" : escape(String.join(", ", restored)))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private void recovery(StringBuilder h) {
        JsonArray rs = array(r, "recovery");
        if (rs == null || rs.isEmpty()) {
            return;
        }
        h.append("<h2>Accuracy recovery</h2>\n<table id=\"recovery\"><tr><th>technique</th>")
                .append("<th>layer</th><th class=\"n\">SQNR before dB</th>")
                .append("<th class=\"n\">SQNR after dB</th></tr>\n");
        for (JsonElement e : rs) {
            JsonObject t = e.getAsJsonObject();
            h.append("<tr class=\"chosen\"><td>")
                    .append(escape(text(t, "technique")))
                    .append("</td><td>whole model</td><td class=\"n\">")
                    .append(fixed(num(t, "wholeBeforeDb"), 2))
                    .append("</td><td class=\"n\">")
                    .append(fixed(num(t, "wholeAfterDb"), 2))
                    .append("</td></tr>\n");
            JsonArray ls = array(t, "layers");
            for (int i = 0; ls != null && i < ls.size(); i++) {
                JsonElement l = ls.get(i);
                h.append("<tr><td></td><td class=\"path\">")
                        .append(escape(text(l, "path")))
                        .append("</td><td class=\"n\">")
                        .append(fixed(num(l, "beforeDb"), 2))
                        .append("</td><td class=\"n\">")
                        .append(fixed(num(l, "afterDb"), 2))
                        .append("</td></tr>\n");
            }
            h.append("<tr><td></td><td colspan=\"3\">")
                    .append(escape(text(t, "note")))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private void layers(StringBuilder h) {
        JsonArray layers = r.getAsJsonArray("layers");
        double scale = 40;
        for (JsonElement l : layers) {
            scale = Math.max(scale, Math.max(orZero(num(l, "staticSqnrDb")), orZero(num(l, "dynamicSqnrDb"))));
        }
        scale = Math.ceil(scale / 10) * 10;
        h.append("<h2>Layers (<span id=\"layer-count\">")
                .append(layers.size())
                .append("</span>)</h2>\n<p>Output SQNR of each layer alone against fp32 on calibration")
                .append(" inputs (bars to ")
                .append((int) scale)
                .append(" dB; red under the ")
                .append(number(floorDb))
                .append(" dB floor); layer times fp32 / int8 per serving batch size.")
                .append(" Filter: <input id=\"layer-filter\" type=\"search\" placeholder=\"path, type, mode\"></p>\n")
                .append("<div class=\"scroll\"><table id=\"layers\"><tr><th class=\"n\">#</th><th>path</th><th>type</th>")
                .append("<th>mode</th><th>static SQNR</th><th>dynamic SQNR</th>")
                .append("<th class=\"n\">fp32 bytes</th><th class=\"n\">now bytes</th>");
        for (int b : batchSizes) {
            h.append("<th class=\"n\">b").append(b).append(" fp32</th><th class=\"n\">b").append(b)
                    .append(" int8</th>");
        }
        h.append("<th>why</th></tr>\n");
        for (int i = 0; i < layers.size(); i++) {
            JsonObject l = layers.get(i).getAsJsonObject();
            String mode = text(l, "mode");
            h.append("<tr class=\"layer\"><td class=\"n\">")
                    .append(i)
                    .append("</td><td class=\"path\">");
            if (l.get("inputHistogram") instanceof JsonObject) {
                h.append("<a href=\"#hist-").append(i).append("\">").append(escape(text(l, "path"))).append("</a>");
            } else {
                h.append(escape(text(l, "path")));
            }
            h.append("</td><td>")
                    .append(escape(text(l, "type")))
                    .append("</td><td><span class=\"mode mode-")
                    .append(escape(mode))
                    .append("\">")
                    .append(escape(mode))
                    .append("</span></td><td class=\"sqnr\">")
                    .append(sqnrBar(num(l, "staticSqnrDb"), scale))
                    .append("</td><td class=\"sqnr\">")
                    .append(sqnrBar(num(l, "dynamicSqnrDb"), scale))
                    .append("</td><td class=\"n\">")
                    .append(String.format(Locale.ROOT, "%,d", longOf(l, "floatBytes")))
                    .append("</td><td class=\"n\">")
                    .append(String.format(Locale.ROOT, "%,d", longOf(l, "quantizedBytes")))
                    .append("</td>");
            for (int b : batchSizes) {
                JsonElement timed = speedAt(l, b);
                boolean slower = timed != null && "SLOWER".equals(text(timed, "verdict"));
                h.append("<td class=\"n\">")
                        .append(timed == null ? "-" : micros(num(timed, "fp32Micros")))
                        .append("</td><td class=\"n")
                        .append(slower ? " slow" : "")
                        .append("\">")
                        .append(timed == null ? "-" : micros(num(timed, "int8Micros")))
                        .append("</td>");
            }
            String fused = (text(l, "foldedBatchNorm").isEmpty() ? "" : " +BN")
                    + ("relu6".equals(text(l, "fusedActivation"))
                            ? " +ReLU6"
                            : text(l, "fusedRelu").isEmpty() ? "" : " +ReLU");
            h.append("<td class=\"why\">")
                    .append(escape(text(l, "reason") + (fused.isEmpty() ? "" : " (" + fused.trim() + ")")))
                    .append("</td></tr>\n");
        }
        h.append("</table></div>\n");
    }

    private String sqnrBar(Double db, double scale) {
        if (db == null) {
            return "<span class=\"num\">-</span>";
        }
        return SvgCharts.bar(db, scale, db < floorDb ? "low" : "good", db(db) + " dB");
    }

    private static JsonElement speedAt(JsonObject layer, int batch) {
        JsonArray speeds = array(layer, "speeds");
        if (speeds == null) {
            return null;
        }
        for (JsonElement e : speeds) {
            Double b = num(e, "batchSize");
            if (b != null && b.intValue() == batch) {
                return e;
            }
        }
        return null;
    }

    private void histograms(StringBuilder h) {
        JsonArray layers = r.getAsJsonArray("layers");
        StringBuilder figures = new StringBuilder();
        int n = 0;
        for (int i = 0; i < layers.size(); i++) {
            JsonObject l = layers.get(i).getAsJsonObject();
            if (!(l.get("inputHistogram") instanceof JsonObject hist)) {
                continue;
            }
            Double start = num(hist, "start");
            Double width = num(hist, "binWidth");
            JsonArray c = array(hist, "counts");
            if (start == null || width == null || c == null || c.isEmpty()) {
                throw new IllegalArgumentException(
                        "the quantization report's layers[" + i + "].inputHistogram needs start,"
                                + " binWidth and counts.");
            }
            List<Long> counts = new ArrayList<>(c.size());
            long total = 0;
            for (JsonElement e : c) {
                counts.add(e.getAsLong());
                total += e.getAsLong();
            }
            double[] range = null;
            JsonArray a = array(l, "activationRange");
            if (a != null && a.size() == 2) {
                range = new double[] {a.get(0).getAsDouble(), a.get(1).getAsDouble()};
            }
            n++;
            figures.append("<figure id=\"hist-")
                    .append(i)
                    .append("\">")
                    .append(SvgCharts.histogram(start, width, counts, range))
                    .append("<figcaption><b>#")
                    .append(i)
                    .append(" <span class=\"path\">")
                    .append(escape(text(l, "path")))
                    .append("</span></b> ")
                    .append(escape(text(l, "mode")))
                    .append(": ")
                    .append(String.format(Locale.ROOT, "%,d", total))
                    .append(" finite input values, observed ")
                    .append(escape(text(l, "inputRange")))
                    .append("; ")
                    .append(escape(caption(counts, start, width, range, total, text(l, "mode"))))
                    .append("</figcaption></figure>\n");
        }
        if (n == 0) {
            return;
        }
        h.append("<h2>Activation histograms</h2>\n<p>Each layer's input as calibration saw it")
                .append(" (counts on a log scale, at most ")
                .append(LayerReport.Histogram.MAX_BINS)
                .append(" bins); green: the range the static grid covers, red: values outside it,")
                .append(" clipped when serving.</p>\n<div class=\"hists\">\n")
                .append(figures)
                .append("</div>\n");
    }

    /** What the marked range means: its ends and about how much of the input falls outside. */
    private static String caption(
            List<Long> counts, double start, double width, double[] range, long total, String mode) {
        if (range == null) {
            return "DYNAMIC".equals(mode)
                    ? "dynamic: the range is taken from each input when serving."
                    : "no static range.";
        }
        long outside = 0;
        for (int k = 0; k < counts.size(); k++) {
            double b0 = start + k * width;
            if (b0 + width <= range[0] || b0 >= range[1]) {
                outside += counts.get(k);
            }
        }
        return String.format(
                Locale.ROOT,
                "static grid [%s, %s]; %s of the values lie in bins wholly outside it.",
                number(range[0]),
                number(range[1]),
                total == 0 ? "0" : String.format(Locale.ROOT, "%.3g%%", 100.0 * outside / total));
    }

    private void notes(StringBuilder h) {
        List<String> notes = strings(r, "notes");
        if (notes.isEmpty()) {
            return;
        }
        h.append("<h2>Notes</h2>\n<ul class=\"notes\">");
        for (String n : notes) {
            h.append("<li>").append(escape(n)).append("</li>");
        }
        h.append("</ul>\n");
    }

    private static void row(StringBuilder h, String key, String html) {
        h.append("<tr><th>").append(escape(key)).append("</th><td>").append(html).append("</td></tr>\n");
    }

    /** Escapes text for HTML content and attribute values. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** Four significant digits without trailing zeros, or "-" for a number not there. */
    static String number(Double v) {
        if (v == null || v.isNaN()) {
            return "-";
        }
        if (v.isInfinite()) {
            return v > 0 ? "inf" : "-inf";
        }
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String fixed(Double v, int digits) {
        return v == null ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    private static String db(Double v) {
        return fixed(v, 1);
    }

    /** A time in microseconds, in us or ms. */
    private static String micros(Double us) {
        if (us == null) {
            return "-";
        }
        return us >= 1000
                ? String.format(Locale.ROOT, "%.2f ms", us / 1000)
                : String.format(Locale.ROOT, "%.0f µs", us);
    }

    private static double orZero(Double v) {
        return v == null ? 0 : v;
    }

    private static JsonObject object(JsonObject o, String key) {
        return o != null && o.get(key) instanceof JsonObject j ? j : null;
    }

    private static JsonArray array(JsonElement o, String key) {
        return o != null && o.isJsonObject() && o.getAsJsonObject().get(key) instanceof JsonArray a ? a : null;
    }

    private static Double num(JsonElement o, String key) {
        if (o == null || !o.isJsonObject()) {
            return null;
        }
        JsonElement e = o.getAsJsonObject().get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : null;
    }

    private static long longOf(JsonObject o, String key) {
        Double d = num(o, key);
        return d == null ? 0 : d.longValue();
    }

    private static Boolean bool(JsonObject o, String key) {
        JsonElement e = o == null ? null : o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() ? e.getAsBoolean() : null;
    }

    private static String text(JsonElement o, String key) {
        if (o == null || !o.isJsonObject()) {
            return "";
        }
        JsonElement e = o.getAsJsonObject().get(key);
        if (e == null || e.isJsonNull()) {
            return "";
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double d = e.getAsDouble();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : number(d);
        }
        return e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private static List<String> strings(JsonObject o, String key) {
        List<String> out = new ArrayList<>();
        JsonArray a = array(o, key);
        if (a != null) {
            for (JsonElement e : a) {
                out.add(e.isJsonPrimitive() ? e.getAsString() : e.toString());
            }
        }
        return out;
    }
}
