package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

/**
 * The HTML report in a real browser (headless Chromium): the page's own watch script reports no
 * error, no console message and no blocked request, it shows one row per layer, and a
 * screenshot of it is a picture. Two control pages (a script error, a request for a remote
 * image) show that the checks catch what they look for. Without Chromium the test is skipped
 * with a WARNING, except on CI ({@code CI=true}), where it fails.
 */
class HtmlReportBrowserTest {

    private static final Pattern STATUS = Pattern.compile("data-report-status=\"([^\"]*)\"");
    private static final Pattern ROWS = Pattern.compile("data-layer-rows=\"(\\d+)\"");

    private static HeadlessChromium browser;

    @BeforeAll
    static void findBrowser() {
        browser = HeadlessChromium.find();
        if (browser == null) {
            String why =
                    "chromium not found (install Debian's chromium: apt-get install -y chromium, or"
                            + " set -Dai.djlquant.chromium=PATH): the HTML report's browser test";
            if ("true".equals(System.getenv("CI"))) {
                fail(why + " cannot run on CI.");
            }
            System.out.println("WARNING: " + why + " is skipped.");
            Assumptions.abort("WARNING: " + why + " is skipped.");
        }
    }

    @Test
    void theReportRendersWithoutErrorsAndShowsEveryLayer(@TempDir Path dir) throws Exception {
        QuantizationReport report = HtmlReportTest.residualCnnReport();
        Path page = dir.resolve("report.html");
        report.writeHtml(page);
        HeadlessChromium.Run run = browser.dumpDom(page, dir);
        assertEquals("ok", status(run), run.log());
        assertEquals(report.getLayers().size(), rows(run), run.dom());
        assertEquals(
                report.getLayers().size(), HtmlReportTest.count(run.dom(), "<tr class=\"layer\">"));
        assertEquals(java.util.List.of(), run.consoleLines(), run.log());

        Path png = dir.resolve("report.png");
        browser.screenshot(page, png, 1400, 1600, dir);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1400, image.getWidth());
        assertEquals(1600, image.getHeight());
        assertTrue(colours(image) > 20, "the screenshot is nearly blank: " + png);
    }

    @Test
    void theChecksCatchAScriptErrorAndARemoteRequest(@TempDir Path dir) throws Exception {
        String html = HtmlReportTest.residualCnnReport().toHtml();
        Path broken = dir.resolve("broken.html");
        Files.writeString(
                broken,
                html.replace("</body>", "<script>notAFunction();</script></body>"),
                StandardCharsets.UTF_8);
        HeadlessChromium.Run run = browser.dumpDom(broken, dir);
        assertTrue(status(run).contains("notAFunction"), status(run));
        assertNotEquals(0, run.consoleLines().size(), run.log());

        Path remote = dir.resolve("remote.html");
        Files.writeString(
                remote,
                html.replace("</body>", "<img src=\"http://192.0.2.1/x.png\"></body>"),
                StandardCharsets.UTF_8);
        HeadlessChromium.Run blocked = browser.dumpDom(remote, dir);
        assertTrue(status(blocked).contains("blocked: http://192.0.2.1/x.png"), status(blocked));
    }

    private static String status(HeadlessChromium.Run run) {
        Matcher m = STATUS.matcher(run.dom());
        if (!m.find()) {
            throw new AssertionError("no data-report-status in the DOM: " + run.dom());
        }
        return m.group(1);
    }

    private static int rows(HeadlessChromium.Run run) {
        Matcher m = ROWS.matcher(run.dom());
        if (!m.find()) {
            throw new AssertionError(
                    "no data-layer-rows in the DOM (the load handler did not run): " + run.dom());
        }
        return Integer.parseInt(m.group(1));
    }

    /** Distinct colours on a coarse grid of the picture: a blank or failed page has one or two. */
    private static int colours(BufferedImage image) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 7) {
            for (int x = 0; x < image.getWidth(); x += 7) {
                seen.add(image.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
