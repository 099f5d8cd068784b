package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Keeps the package rule of docs/architecture.md: dependencies point one way, a package uses only
 * packages before it in the list annotations, quant, observe, kernel, nn, kind, transform, plan, top
 * level, artifact, torchscript
 * (and not the few pairs the design rules out). Reads the main sources (run from the
 * module directory, as Maven does) and fails naming the file and the reference that points up.
 */
class PackageDependenciesTest {

    /** The order of docs/architecture.md; "" is the top-level package. */
    private static final List<String> ORDER =
            Arrays.asList(
                    "annotations", "quant", "observe", "kernel", "nn", "kind", "transform", "plan", "",
                    "artifact", "torchscript");

    /** A reference to one of our packages ({@code ai.djlquant.nn.}) or top-level classes. */
    private static final Pattern REFERENCE =
            Pattern.compile("\\bai\\.djlquant\\.(?:([a-z]+)\\.|([A-Z]))");

    /** Pairs the list would allow but the design rules out (DESIGN.md's "must not know about"). */
    private static final Map<String, Set<String>> FORBIDDEN =
            Map.of(
                    "kernel", Set.of("observe"),
                    "transform", Set.of("kernel"),
                    "plan", Set.of("kernel"));

    @Test
    void dependenciesPointDownTheList() throws IOException {
        Path root = Paths.get("src/main/java/ai/djlquant");
        assertTrue(Files.isDirectory(root), "run from the module directory: " + root);
        List<String> violations = new ArrayList<>();
        int files = scan(root, violations);
        assertTrue(files > 50, "found only " + files + " source files under " + root);
        assertEquals(
                "",
                violations.stream().distinct().collect(Collectors.joining("\n")),
                "references that point up the package list");
    }

    /** The scan finds what it is there for: a planted reference up the list, and a forbidden one. */
    @Test
    void aPlantedViolationIsReported(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("ai/djlquant");
        write(root.resolve("quant/Fine.java"), "package ai.djlquant.quant;\nclass Fine {}\n");
        write(
                root.resolve("quant/Up.java"),
                "package ai.djlquant.quant;\n"
                        + "// ai.djlquant.nn.InAComment is no reference\n"
                        + "import ai.djlquant.nn.QuantizedLinear;\nclass Up {}\n");
        write(
                root.resolve("kernel/Side.java"),
                "package ai.djlquant.kernel;\nimport ai.djlquant.observe.Observer;\n"
                        + "import ai.djlquant.quant.QuantParams;\nclass Side {}\n");
        write(
                root.resolve("artifact/Last.java"),
                "package ai.djlquant.artifact;\nimport ai.djlquant.Quantizer;\nclass Last {}\n");
        List<String> violations = new ArrayList<>();
        assertEquals(4, scan(root, violations));
        assertEquals(
                List.of(
                        root.resolve("kernel/Side.java") + " uses ai.djlquant.observe",
                        root.resolve("quant/Up.java") + " uses ai.djlquant.nn"),
                violations.stream().distinct().sorted().toList());
    }

    /** The list of this test is the package table of docs/architecture.md, in its order. */
    @Test
    void orderIsTheArchitectureDocumentsPackageTable() throws IOException {
        Path doc = Paths.get("../docs/architecture.md");
        assertTrue(Files.isRegularFile(doc), "run from the module directory: " + doc);
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        int from = text.indexOf("\n## Packages of the library\n");
        assertTrue(from >= 0, "docs/architecture.md has no section 'Packages of the library'");
        int to = text.indexOf("\n## ", from + 1);
        String section = text.substring(from, to < 0 ? text.length() : to);
        List<String> documented = new ArrayList<>();
        Matcher row =
                Pattern.compile("(?m)^\\| (?:top level )?`([a-z.]+)` \\|").matcher(section);
        while (row.find()) {
            documented.add(row.group(1).equals("ai.djlquant") ? "" : row.group(1));
        }
        assertEquals(ORDER, documented, "the package table of docs/architecture.md");
    }

    /** Scans the sources under {@code root}, adding each reference up the list; returns the files. */
    private static int scan(Path root, List<String> violations) throws IOException {
        int files = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path file : walk.filter(p -> p.toString().endsWith(".java")).toList()) {
                files++;
                Path dir = root.relativize(file).getParent();
                String from = dir == null ? "" : dir.toString();
                int rank = ORDER.indexOf(from);
                assertTrue(rank >= 0, file + " is in a package the rule does not list: " + from);
                String text = stripComments(Files.readString(file, StandardCharsets.UTF_8));
                Matcher m = REFERENCE.matcher(text);
                while (m.find()) {
                    String to = m.group(1) == null ? "" : m.group(1);
                    if (!to.equals(from) && !allowed(from, to)) {
                        violations.add(
                                file + " uses ai.djlquant." + (to.isEmpty() ? "<top level>" : to));
                    }
                }
            }
        }
        return files;
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static boolean allowed(String from, String to) {
        return ORDER.indexOf(to) >= 0
                && ORDER.indexOf(to) < ORDER.indexOf(from)
                && !FORBIDDEN.getOrDefault(from, Set.of()).contains(to);
    }

    /** Javadoc may name any class ({@code {@link ai.djlquant.Quantizer}}); only code counts. */
    private static String stripComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
    }
}
