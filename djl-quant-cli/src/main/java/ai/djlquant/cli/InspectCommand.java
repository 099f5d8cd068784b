package ai.djlquant.cli;

import ai.djl.Model;
import ai.djlquant.HtmlReport;
import ai.djlquant.artifact.ArtifactFormat;
import ai.djlquant.artifact.ArtifactFormat.Accuracy;
import ai.djlquant.artifact.ArtifactFormat.Calibration;
import ai.djlquant.artifact.ArtifactFormat.Manifest;
import ai.djlquant.artifact.ArtifactFormat.WeightBytes;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.artifact.ArtifactSigning;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code djl-quant inspect DIR}: an artifact's report, with its files verified. */
@Command(
        name = "inspect",
        mixinStandardHelpOptions = true,
        description = {
            "Verify an artifact and print its report.",
            "Checks the format, the size and SHA-256 of every file and, unless"
                    + " --checksums-only, loads it through its block factories as a server would."
        },
        sortOptions = false)
final class InspectCommand implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The artifact directory.")
    Path dir;

    @Option(
            names = "--checksums-only",
            description = "Verify the files but do not load the model (no engine needed).")
    boolean checksumsOnly;

    @Option(
            names = "--trust",
            paramLabel = "KEY",
            description =
                    "Refuse the artifact unless it is signed by this Ed25519 public key (X.509"
                            + " PEM, as openssl pkey -pubout writes it).")
    Path trust;

    @Option(
            names = "--json",
            description = "Print the whole " + ArtifactFormat.MANIFEST_FILE + " instead.")
    boolean json;

    @Option(
            names = "--report-html",
            paramLabel = "FILE",
            description =
                    "Also write the stored quantization report as one self-contained HTML page.")
    Path reportHtml;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "DIR " + dir + " is not a directory.");
        }
        PrintWriter out = spec.commandLine().getOut();
        PublicKey trusted = trust == null ? null : ArtifactSigning.readPublicKey(trust);
        ArtifactManifest m = ArtifactLoader.verify(dir, trusted);
        if (json) {
            out.println(m.toJson());
            return 0;
        }
        out.printf("artifact %s%n", dir);
        out.printf(
                "  format %d, written by djl-quant %s with DJL %s, engine %s%n",
                m.getFormatVersion(), m.getLibraryVersion(), m.getDjlVersion(), m.getEngine());
        out.printf(
                "  model '%s', float architecture from %s%n",
                m.getModelName(), m.getBaseBlockFactory());
        out.printf(
                "  %d int8 layers, %d places rewritten (int8 blocks, folded BatchNorms, fused"
                        + " ReLUs)%n",
                m.getInt8LayerCount(), m.getRewriteCount());
        String method = m.getText(Manifest.CALIBRATION, Calibration.METHOD);
        Double samples = m.getNumber(Manifest.CALIBRATION, Calibration.SAMPLES);
        if (method != null) {
            out.printf(
                    "  calibration: %s, %s samples%n",
                    method, samples == null ? "?" : String.valueOf(samples.longValue()));
        }
        Double fp32 = m.getNumber(Manifest.ACCURACY, Accuracy.FP32_TOP1);
        Double int8 = m.getNumber(Manifest.ACCURACY, Accuracy.INT8_TOP1);
        if (fp32 != null && int8 != null) {
            Double n = m.getNumber(Manifest.ACCURACY, Accuracy.SAMPLES);
            out.printf(
                    Locale.ROOT,
                    "  accuracy: top-1 fp32 %.2f%% -> int8 %.2f%% (%+.2f points) on %s images of"
                            + " %s%n",
                    fp32 * 100,
                    int8 * 100,
                    (int8 - fp32) * 100,
                    n == null ? "?" : String.valueOf(n.longValue()),
                    m.getText(Manifest.ACCURACY, Accuracy.DATASET));
        } else {
            out.println("  accuracy: not measured at export");
        }
        Double wf = m.getNumber(Manifest.WEIGHT_BYTES, WeightBytes.FP32);
        Double wi = m.getNumber(Manifest.WEIGHT_BYTES, WeightBytes.INT8);
        if (wi != null) {
            out.printf(
                    Locale.ROOT,
                    "  parameters: %s -> %,d bytes%s%n",
                    wf == null ? "?" : String.format(Locale.ROOT, "%,d", wf.longValue()),
                    wi.longValue(),
                    wf == null ? "" : String.format(Locale.ROOT, " (%.3fx)", wi / wf));
        }
        Path files = ArtifactLoader.filesDirectory(dir);
        out.printf(
                "files (size and SHA-256 verified)%s:%n",
                files.equals(dir) ? "" : ", in " + dir.relativize(files) + " (current links to it)");
        for (Map.Entry<String, ArtifactManifest.FileEntry> e : m.getFiles().entrySet()) {
            out.printf(
                    "  %-24s %,10d bytes  %s  ok%n",
                    e.getKey(), e.getValue().bytes(), e.getValue().sha256());
        }
        if (trusted != null) {
            out.printf("signature: Ed25519, verified with the trusted key %s%n", trust);
        } else if (Files.exists(
                ArtifactLoader.filesDirectory(dir).resolve(ArtifactFormat.SIGNATURE_FILE))) {
            out.printf(
                    "signature: present, not checked (give --trust KEY to require it)%n");
        } else {
            out.println("signature: none (the artifact is not signed)");
        }
        printLayers(out, m.getReportJson());
        if (reportHtml != null) {
            writeHtml(m);
            out.printf("wrote the report page %s%n", reportHtml);
        }
        if (!checksumsOnly) {
            try (Model model = ArtifactLoader.load(dir, trusted)) {
                out.printf(
                        "loaded: %s rebuilt the architecture; every parameter and every int8"
                                + " layer's quantization matches "
                                + ArtifactFormat.MANIFEST_FILE
                                + "%n",
                        m.getBaseBlockFactory());
            }
        }
        printLoadingPaths(out, m);
        out.println("OK");
        return 0;
    }

    /** The page of the report the artifact stores, with the top-1s recorded at export. */
    private void writeHtml(ArtifactManifest m) throws java.io.IOException {
        if (m.getReportJson() == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--report-html: "
                            + dir
                            + " records no quantization report in "
                            + ArtifactFormat.MANIFEST_FILE
                            + ".");
        }
        HtmlReport page =
                HtmlReport.fromJson(m.getReportJson())
                        .withTitle(m.getModelName() + ": djl-quant int8 report (" + dir + ")");
        Double fp32 = m.getNumber(Manifest.ACCURACY, Accuracy.FP32_TOP1);
        Double int8 = m.getNumber(Manifest.ACCURACY, Accuracy.INT8_TOP1);
        Double n = m.getNumber(Manifest.ACCURACY, Accuracy.SAMPLES);
        if (fp32 != null && int8 != null) {
            page =
                    page.withTop1(
                            new HtmlReport.Top1(
                                    m.getText(Manifest.ACCURACY, Accuracy.DATASET),
                                    n == null ? 0 : n.longValue(),
                                    fp32,
                                    int8));
        }
        page.write(reportHtml);
    }

    /**
     * Which way of loading checks before it runs anything: DJL's Criteria runs the {@code
     * blockFactory} that {@code serving.properties} names, and puts the directory's jars and
     * {@code classes/} on the class path, before any of this library's checks.
     */
    private static void printLoadingPaths(PrintWriter out, ArtifactManifest m) {
        long code =
                m.getFiles().keySet().stream()
                        .filter(f -> f.endsWith(".jar") || f.startsWith("classes/"))
                        .count();
        out.println("loading:");
        out.println(
                "  safe:     ArtifactLoader.load(dir) (what this command ran) verifies every file,"
                        + " the base factory's class and every value before any code from the"
                        + " artifact runs");
        out.printf(
                "  trusting: Criteria.optModelPath(dir) lets DJL run the blockFactory named in"
                        + " %s and put the directory's jars and classes/ (%d listed here) on the"
                        + " class path before any check: use it only for directories you trust"
                        + "%n",
                ArtifactFormat.SERVING_PROPERTIES_FILE,
                code);
    }

    /** The report's per-layer rows, as the quantizer printed them. */
    private static void printLayers(PrintWriter out, String reportJson) {
        if (reportJson == null) {
            out.println("layers: (no quantization report recorded)");
            return;
        }
        JsonObject r = JsonParser.parseString(reportJson).getAsJsonObject();
        // the host it was quantized on (reports before issue 15 have none): another host may
        // have another ISA and int8/fp32 ratio, so the speed recorded there need not hold here
        JsonElement host = r.get("host");
        if (host != null && host.isJsonObject()) {
            out.printf(
                    Locale.ROOT,
                    "quantized on: %s, %s-bit activations, %s threads, int8/fp32 GEMM %sx"
                            + " (this host: djl-quant doctor)%n",
                    text(host, "isa"),
                    text(host, "activationBits"),
                    text(host, "threads"),
                    ratio(host));
        }
        JsonElement layers = r.get("layers");
        if (layers == null || !layers.isJsonArray()) {
            return;
        }
        JsonArray a = layers.getAsJsonArray();
        int width = 4;
        for (JsonElement e : a) {
            width = Math.max(width, text(e, "path").length());
        }
        String row = "  %-" + width + "s  %-8s %-7s %10s %10s %11s %11s  %s%n";
        out.println("layers (from the quantization report):");
        out.printf(
                row, "path", "type", "mode", "static dB", "dynamic dB", "fp32 bytes", "now bytes", "why");
        for (JsonElement e : a) {
            out.printf(
                    row,
                    text(e, "path"),
                    text(e, "type"),
                    text(e, "mode"),
                    db(e, "staticSqnrDb"),
                    db(e, "dynamicSqnrDb"),
                    text(e, "floatBytes"),
                    text(e, "quantizedBytes"),
                    text(e, "reason") + fused(e));
        }
    }

    private static String ratio(JsonElement host) {
        JsonElement e = host.getAsJsonObject().get("ratio");
        return e == null || e.isJsonNull()
                ? "-"
                : String.format(Locale.ROOT, "%.2f", e.getAsDouble());
    }

    private static String fused(JsonElement row) {
        String f =
                (text(row, "foldedBatchNorm").isEmpty() ? "" : " +BN")
                        + (text(row, "fusedRelu").isEmpty() ? "" : " +ReLU");
        return f.isEmpty() ? "" : " (" + f.trim() + ")";
    }

    private static String text(JsonElement row, String key) {
        JsonElement e = row.getAsJsonObject().get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private static String db(JsonElement row, String key) {
        JsonElement e = row.getAsJsonObject().get(key);
        return e == null || e.isJsonNull()
                ? "-"
                : String.format(Locale.ROOT, "%.1f", e.getAsDouble());
    }
}
