package ai.djlquant;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a page in headless Chromium (Debian's {@code chromium}): the DOM after load, with the
 * browser's console log, and a screenshot. A fresh profile directory per run, no sandbox (CI runs
 * as root), no GPU.
 */
final class HeadlessChromium {

    /** The names the browser goes by on Debian, Ubuntu and elsewhere. */
    private static final String[] NAMES = {"chromium", "chromium-browser", "google-chrome"};

    /** A guard against a hung browser, not a measurement. */
    private static final long RUN_LIMIT_SECONDS = 120;

    /**
     * What a run of the page gave.
     *
     * @param dom the serialised DOM after load
     * @param log the browser's stderr, with console messages
     */
    record Run(String dom, String log) {

        /** The lines of the log that are console messages of the page. */
        List<String> consoleLines() {
            List<String> out = new ArrayList<>();
            for (String line : log.split("\n")) {
                if (line.contains("CONSOLE")) {
                    out.add(line);
                }
            }
            return out;
        }
    }

    private final Path executable;

    private HeadlessChromium(Path executable) {
        this.executable = executable;
    }

    /**
     * Finds the browser: {@code -Dai.djlquant.chromium=PATH}, else one of {@link #NAMES} on the
     * PATH.
     *
     * @return the browser, or null if none is installed (or the given path is not executable)
     */
    static HeadlessChromium find() {
        String given = System.getProperty("ai.djlquant.chromium");
        if (given != null && !given.isEmpty()) {
            return Files.isExecutable(Path.of(given)) ? new HeadlessChromium(Path.of(given)) : null;
        }
        String path = System.getenv("PATH");
        for (String name : NAMES) {
            for (String dir : path == null ? new String[0] : path.split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return new HeadlessChromium(p);
                }
            }
        }
        return null;
    }

    /** Loads the page and returns its DOM after load, with the console log. */
    Run dumpDom(Path page, Path work) throws IOException, InterruptedException {
        Path out = work.resolve("dom.html");
        Path err = work.resolve("dom.log");
        run(work, out, err, "--dump-dom", page.toUri().toString());
        return new Run(
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Loads the page and writes a PNG screenshot of the window. */
    void screenshot(Path page, Path png, int width, int height, Path work)
            throws IOException, InterruptedException {
        run(
                work,
                work.resolve("shot.out"),
                work.resolve("shot.log"),
                "--screenshot=" + png.toAbsolutePath(),
                "--window-size=" + width + "," + height,
                "--hide-scrollbars",
                page.toUri().toString());
    }

    private void run(Path work, Path stdout, Path stderr, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(executable.toString());
        cmd.add("--headless");
        cmd.add("--disable-gpu");
        cmd.add("--no-sandbox");
        cmd.add("--no-first-run");
        cmd.add("--disable-extensions");
        cmd.add("--disable-dev-shm-usage");
        cmd.add("--user-data-dir=" + Files.createTempDirectory(work, "profile"));
        cmd.add("--enable-logging=stderr");
        cmd.add("--v=0");
        // lets the page's load handlers run before the DOM is taken or the picture made
        cmd.add("--virtual-time-budget=5000");
        cmd.addAll(List.of(args));
        Process p =
                new ProcessBuilder(cmd)
                        .redirectOutput(stdout.toFile())
                        .redirectError(stderr.toFile())
                        .start();
        if (!p.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(executable + " did not finish in " + RUN_LIMIT_SECONDS + " s: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException(
                    executable
                            + " exited with "
                            + p.exitValue()
                            + ": "
                            + Files.readString(stderr, StandardCharsets.UTF_8));
        }
    }
}
