package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Fault injection for an overwrite: a child JVM exports over an existing artifact and is killed
 * (SIGKILL) at each step of the write. After each kill, before any cleanup, the target is loaded
 * (by {@link ArtifactLoader} and through DJL's {@code Criteria}) and compared with the old
 * artifact: it is the complete old one before the link is renamed and the complete new one from
 * then on, at every step. Then {@link ExportDirectory#cleanLeftovers} (what the next export runs
 * first) removes what the killed export left, and nothing else.
 *
 * <p>An artifact written before the layout of {@link ArtifactLayout} (its files in the directory
 * itself) can only be replaced by two renames; its kill points are tested too: the one instant
 * without a target is repaired by the next export.
 */
class ExportKillTest {

    /** The steps of an overwrite of an artifact in the layout; from "new linked in" on: new. */
    private static final String[] SWAP_STEPS = {
        "staging created", "files written", "verified", "link created", "new linked in",
        "old deleted"
    };

    @TempDir static Path tmp;

    private static Path pristine;
    private static byte[] oldManifest;

    @BeforeAll
    static void export() throws Exception {
        pristine = tmp.resolve("pristine");
        try (Model m = TestNets.floatModel(new TestNets.ResidualNet(), "net", 1)) {
            TestNets.quantize(m);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .build()
                    .write(pristine);
        }
        // as if written by a process that has ended, as an artifact on disk is: rename its
        // generation to carry the id of a finished process
        Process done = new ProcessBuilder("true").start();
        done.waitFor();
        String gen = ArtifactLayout.currentGeneration(pristine).orElseThrow();
        String ended = ".gen-" + done.pid() + gen.substring(gen.indexOf('-', 5));
        Files.move(pristine.resolve(gen), pristine.resolve(ended));
        Files.delete(pristine.resolve("current"));
        Files.createSymbolicLink(pristine.resolve("current"), Paths.get(ended));
        oldManifest = Files.readAllBytes(manifestOf(pristine));
    }

    private static Path manifestOf(Path artifact) throws Exception {
        return ArtifactLoader.filesDirectory(artifact).resolve(ArtifactFormat.MANIFEST_FILE);
    }

    /** Copies an artifact as it is: its link, its generation. */
    private static void copyTree(Path from, Path to) throws Exception {
        List<Path> all;
        try (Stream<Path> s = Files.walk(from)) {
            all = s.sorted().collect(Collectors.toList());
        }
        for (Path p : all) {
            Path q = to.resolve(from.relativize(p).toString());
            if (Files.isSymbolicLink(p)) {
                Files.createSymbolicLink(q, Files.readSymbolicLink(p));
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(q);
            } else {
                Files.copy(p, q);
            }
        }
    }

    /** Copies an artifact's files into the directory itself: the layout before generations. */
    private static void copyFlat(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(ArtifactLoader.filesDirectory(from))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    /** Starts the child, waits until it reports the step, kills it. */
    private static void killAt(Path target, String step) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("ai.djl") || key.equals("disableProgressBar")) {
                cmd.add("-D" + key + "=" + System.getProperty(key));
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ExportChild.class.getName());
        cmd.add(target.toString());
        cmd.add(step);
        cmd.add("2");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        boolean reached = false;
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                output.append(line).append('\n');
                if (line.equals("AT " + step)) {
                    reached = true;
                    child.destroyForcibly(); // SIGKILL: no finally, no shutdown hook runs
                    break;
                }
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
        if (!reached) {
            fail("the child never reached '" + step + "':\n" + output);
        }
    }

    /**
     * What is neither the target's link nor the generation it names: beside the target, any
     * {@code .<name>.*}; inside it, any other entry.
     */
    private static List<String> leftovers(Path target) throws Exception {
        List<String> left = new ArrayList<>();
        String prefix = "." + target.getFileName() + ".";
        try (Stream<Path> s = Files.list(target.getParent())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).forEach(left::add);
        }
        if (Files.isDirectory(target)) {
            String current = ArtifactLayout.currentGeneration(target).orElse(null);
            try (Stream<Path> s = Files.list(target)) {
                s.map(p -> p.getFileName().toString())
                        .filter(n -> n.startsWith("."))
                        .filter(n -> !n.equals(current))
                        .map(n -> target.getFileName() + "/" + n)
                        .forEach(left::add);
            }
        }
        left.sort(null);
        return left;
    }

    /**
     * Loads the target both ways (ArtifactLoader, Criteria); true if it is the old artifact, false
     * if another (the new one).
     */
    private static boolean loadsAsOld(Path target, String what) throws Exception {
        try (Model m = ArtifactLoader.load(target)) {
            assertTrue(m.getBlock().isInitialized(), what);
        }
        Criteria<NDList, NDList> c =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(target)
                        .build();
        try (ZooModel<NDList, NDList> m = c.loadModel()) {
            assertTrue(m.getBlock().isInitialized(), what + ", through Criteria");
        }
        return Arrays.equals(oldManifest, Files.readAllBytes(manifestOf(target)));
    }

    @Test
    void atEveryKillPointOfAnOverwriteTheTargetIsTheCompleteOldOrNewArtifact() throws Exception {
        StringBuilder summary = new StringBuilder();
        for (int i = 0; i < SWAP_STEPS.length; i++) {
            String step = SWAP_STEPS[i];
            Path target = tmp.resolve("target" + i);
            copyTree(pristine, target);
            killAt(target, step);
            String what = "killed after '" + step + "'";
            // no cleanup yet: what a server loading right after the kill would get
            boolean old = loadsAsOld(target, what);
            boolean linkedIn = i >= Arrays.asList(SWAP_STEPS).indexOf("new linked in");
            assertEquals(!linkedIn, old, what + ": " + (old ? "old" : "new") + " artifact");
            List<String> left = leftovers(target);
            int cleaned = ExportDirectory.cleanLeftovers(target);
            assertEquals(left.size(), cleaned, what + ": cleaned " + left);
            assertEquals(List.of(), leftovers(target), what + ": leftovers cleaned");
            assertEquals(old, loadsAsOld(target, what + ", after the next export's cleanup"));
            summary.append(
                    String.format(
                            "%n  %-16s target %s, %d left: %s",
                            step, old ? "old" : "new", left.size(), left));
        }
        System.out.printf("export kill points (overwrite):%s%n", summary);
    }

    @Test
    void anArtifactWithItsFilesInTheDirectoryIsReplacedOnceTheOldWayAndRecovered()
            throws Exception {
        String[] steps = {"verified", "old moved aside", "new moved in"};
        int missing = 0;
        for (int i = 0; i < steps.length; i++) {
            String step = steps[i];
            Path target = tmp.resolve("flat" + i);
            copyFlat(pristine, target);
            killAt(target, step);
            String what = "killed after '" + step + "'";
            if (!Files.exists(target)) {
                missing++;
            }
            ExportDirectory.cleanLeftovers(target);
            assertEquals(List.of(), leftovers(target), what + ": leftovers cleaned");
            boolean old = loadsAsOld(target, what + ", after the next export's cleanup");
            assertEquals(!step.equals("new moved in"), old, what);
            if (!old) {
                assertTrue(
                        ArtifactLayout.currentGeneration(target).isPresent(),
                        what + ": the replacement is in the layout from then on");
            }
        }
        assertEquals(1, missing, "only between its two renames is the target missing");
    }

    @Test
    void aLiveExportsDirectoriesAreNotCleaned() throws Exception {
        Path target = tmp.resolve("live");
        copyTree(pristine, target);
        long pid = ProcessHandle.current().pid();
        Path mine = Files.createDirectory(tmp.resolve(".live.export-" + pid + "-1"));
        Path legacy = Files.createDirectory(tmp.resolve(".live.export-12345"));
        Path myGeneration = Files.createDirectory(target.resolve(".gen-" + pid + "-2"));
        assertEquals(0, ExportDirectory.cleanLeftovers(target));
        assertTrue(Files.isDirectory(mine), "this (live) process's staging directory stays");
        assertTrue(Files.isDirectory(legacy), "a name without a process id is not guessed at");
        assertTrue(Files.isDirectory(myGeneration), "a generation being written stays");
        assertArrayEquals(oldManifest, Files.readAllBytes(manifestOf(target)));
        assertFalse(leftovers(target).isEmpty());
    }
}
