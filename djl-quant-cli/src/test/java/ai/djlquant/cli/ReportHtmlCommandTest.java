package ai.djlquant.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djlquant.artifact.ArtifactLoader;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code quantize --report-html} and {@code inspect --report-html}: the page written after
 * quantizing and the page made later from the artifact's stored report are the same page (title
 * aside), with the top-1s measured by {@code --evaluate} and one row per layer.
 */
class ReportHtmlCommandTest {

    @TempDir Path tmp;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = DjlQuant.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void quantizeAndInspectWriteTheSamePage() throws Exception {
        Path artifact = tmp.resolve("mlp-int8");
        Path quantizePage = tmp.resolve("pages/quantize.html");
        String[] q =
                run(
                        "quantize", "--model", "mlp", "--output", artifact.toString(),
                        "--samples", "64", "--evaluate", "--limit", "200",
                        "--objective", "size", "--report-html", quantizePage.toString());
        assertEquals("0", q[0], String.join("\n", q));
        assertTrue(q[1].contains("wrote the report page " + quantizePage), q[1]);

        Path inspectPage = tmp.resolve("inspect.html");
        String[] i =
                run("inspect", "--checksums-only", artifact.toString(), "--report-html",
                        inspectPage.toString());
        assertEquals("0", i[0], String.join("\n", i));
        assertTrue(i[1].contains("wrote the report page " + inspectPage), i[1]);

        String a = Files.readString(quantizePage, StandardCharsets.UTF_8);
        String b = Files.readString(inspectPage, StandardCharsets.UTF_8);
        assertTrue(a.contains("<title>mlp: djl-quant int8 report</title>"), a);
        assertTrue(b.contains("<title>mlp: djl-quant int8 report ("), b);
        assertTrue(a.contains("on 200 samples of"), "the top-1s of --evaluate: " + a);
        String body = "<h2>Model</h2>";
        assertEquals(a.substring(a.indexOf(body)), b.substring(b.indexOf(body)));
        JsonObject manifest =
                JsonParser.parseString(Files.readString(ArtifactLoader.filesDirectory(artifact).resolve("quantization.json")))
                        .getAsJsonObject();
        int layers = manifest.getAsJsonObject("report").getAsJsonArray("layers").size();
        assertEquals(3, layers); // the MLP's three Linears
        assertEquals(layers, b.split("<tr class=\"layer\">", -1).length - 1);
    }

    @Test
    void inspectOfAnArtifactWithoutAReportNamesTheOption() throws Exception {
        Path artifact = tmp.resolve("mlp-int8");
        String[] q =
                run("quantize", "--model", "mlp", "--output", artifact.toString(),
                        "--samples", "32", "--objective", "size");
        assertEquals("0", q[0], String.join("\n", q));
        Path manifest = ArtifactLoader.filesDirectory(artifact).resolve("quantization.json");
        JsonObject o = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
        o.remove("report"); // informative: the artifact still verifies without it
        Files.writeString(manifest, o.toString());
        String[] i =
                run("inspect", "--checksums-only", artifact.toString(), "--report-html",
                        tmp.resolve("x.html").toString());
        assertEquals("2", i[0], String.join("\n", i));
        assertTrue(i[2].contains("--report-html: " + artifact + " records no quantization report in"
                + " quantization.json."), i[2]);
        assertTrue(!Files.exists(tmp.resolve("x.html")));
    }
}
