package ai.djlquant.examples.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.artifact.ArtifactException;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactWriter;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.FashionMnistTranslatorFactory;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * 1,200 seeded cases (seed {@value #SEED}) against a real artifact (the reference residual network
 * quantized with committed calibration images):
 *
 * <ul>
 *   <li>200 accidental corruptions: flipped bytes, truncated, deleted and swapped files. Each one,
 *       loaded directly and through Criteria, either fails with a clean exception or loads a model
 *       whose outputs are bit-identical to the uncorrupted artifact's.
 *   <li>1,000 semantic edits with the checksums recomputed ({@link SemanticEdits}: scales, zero
 *       points, bits, modes, int8 weights, float values, shapes, factory names, and a no-op).
 *       Through {@link ArtifactLoader#load}, every implausible or inconsistent edit is refused with
 *       one clean sentence, every no-op loads with bit-identical outputs, and none of the planted
 *       classes' code (static initialisers of classes that are no usable factory) runs.
 * </ul>
 *
 * The counts are printed and asserted.
 */
class ArtifactFuzzTest {

    private static final int CASES = 200;
    private static final int SEMANTIC_CASES = 1000;
    private static final long SEED = 20261122L;

    @TempDir static Path tmp;

    private static Path pristine;
    private static List<String> files;
    private static NDManager manager;
    private static NDList input;
    private static float[] expected;

    @BeforeAll
    static void export() throws Exception {
        manager = NDManager.newBaseManager();
        IdxDataset test =
                IdxDataset.builder()
                        .setDirectory(TestData.testDir())
                        .optUsage(Dataset.Usage.TEST)
                        .build();
        test.prepare();
        input = FashionMnist.newPipeline().transform(new NDList(test.rawImages(manager, 0, 16)));
        pristine = tmp.resolve("pristine");
        try (ZooModel<Image, Classifications> model =
                ReferenceModel.RESNET.load(TestData.modelsDir())) {
            List<Image> images = CalibrationImages.load(TestData.calibrationDir(), 64);
            QuantizationReport report =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromInputs(images, FashionMnist.newTranslator(), 32),
                            QuantizationConfig.builder().optCalibrationSamples(64).build());
            ArtifactWriter.builder()
                    .setModel(model)
                    .setBaseBlockFactory(ReferenceModel.RESNET.getBlockFactory())
                    .optTranslatorFactory(FashionMnistTranslatorFactory.class.getName())
                    .optReport(report)
                    .build()
                    .write(pristine);
            expected = run(model);
        }
        // the generation's directory: the files themselves, copied flat into each case
        pristine = ArtifactLoader.filesDirectory(pristine);
        try (Stream<Path> s = Files.list(pristine)) {
            files = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
        assertEquals(3, files.size(), files.toString());
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static float[] run(Model model) {
        try (NDManager scope = manager.newSubManager()) {
            NDList x = new NDList(input.singletonOrThrow().duplicate());
            x.attach(scope);
            return model.getBlock()
                    .forward(new ParameterStore(scope, false), x, false)
                    .singletonOrThrow()
                    .toFloatArray();
        }
    }

    /** What one corruption did, for counts and messages. */
    private static final class Corruption {
        final String kind;
        final String description;
        final boolean touchesCheckedFile;

        Corruption(String kind, String description, boolean touchesCheckedFile) {
            this.kind = kind;
            this.description = description;
            this.touchesCheckedFile = touchesCheckedFile;
        }
    }

    private static Corruption corrupt(Path dir, Random r) throws IOException {
        String name = files.get(r.nextInt(files.size()));
        Path f = dir.resolve(name);
        // the manifest itself is not covered by a checksum; the other two files are
        boolean checked = !name.equals("quantization.json");
        switch (r.nextInt(4)) {
            case 0:
                {
                    byte[] b = Files.readAllBytes(f);
                    int flips = 1 + r.nextInt(3);
                    StringBuilder at = new StringBuilder();
                    for (int i = 0; i < flips; i++) {
                        int pos = r.nextInt(b.length);
                        b[pos] ^= (byte) (1 + r.nextInt(255));
                        at.append(pos).append(i + 1 < flips ? "," : "");
                    }
                    Files.write(f, b);
                    return new Corruption("flip", name + " bytes " + at + " flipped", checked);
                }
            case 1:
                {
                    byte[] b = Files.readAllBytes(f);
                    int len = r.nextInt(b.length);
                    Files.write(f, Arrays.copyOf(b, len));
                    return new Corruption(
                            "truncate", name + " truncated to " + len + " of " + b.length, true);
                }
            case 2:
                Files.delete(f);
                return new Corruption("delete", name + " deleted", true);
            default:
                {
                    String other = files.get((files.indexOf(name) + 1 + r.nextInt(2)) % 3);
                    Path g = dir.resolve(other);
                    byte[] a = Files.readAllBytes(f);
                    Files.write(f, Files.readAllBytes(g));
                    Files.write(g, a);
                    return new Corruption("swap", name + " and " + other + " swapped", true);
                }
        }
    }

    @Test
    void everyCorruptionFailsCleanlyOrLoadsIdentically() throws Exception {
        Random random = new Random(SEED);
        int directClean = 0;
        int directIdentical = 0;
        int criteriaOurs = 0;
        int criteriaDjl = 0;
        int criteriaIdentical = 0;
        List<String> kinds = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            Path dir = tmp.resolve("case" + i);
            Files.createDirectories(dir);
            for (String f : files) {
                Files.copy(pristine.resolve(f), dir.resolve(f));
            }
            Corruption c = corrupt(dir, random);
            kinds.add(c.kind);
            String what = "case " + i + " (" + c.description + ")";

            // 1. the direct entry point: our exception, or the same outputs
            try (Model m = ArtifactLoader.load(dir)) {
                assertArrayEquals(expected, run(m), what + " loaded with other outputs");
                assertFalse(c.touchesCheckedFile, what + " loaded despite a damaged checked file");
                directIdentical++;
            } catch (ArtifactException e) {
                assertNotNull(e.getMessage(), what);
                assertFalse(e.getMessage().contains("\n"), what + ": " + e.getMessage());
                directClean++;
            } catch (Exception | Error e) {
                fail(what + " failed with " + e + " instead of an ArtifactException", e);
            }

            // 2. DJL's Criteria: our exception once our block factory runs; DJL's own exception
            // when serving.properties is too damaged for DJL to reach it; or the same outputs
            try (ZooModel<Image, Classifications> m = ReferenceModel.loadDirectory(dir)) {
                assertArrayEquals(expected, run(m), what + " loaded through Criteria differently");
                criteriaIdentical++;
            } catch (ArtifactException e) {
                criteriaOurs++;
            } catch (Exception e) {
                assertNotNull(e.getMessage(), what + ": " + e);
                assertTrue(
                        c.description.contains("serving.properties"),
                        what + ": DJL failed before our factory: " + e);
                criteriaDjl++;
            } catch (Error e) {
                fail(what + " crashed Criteria loading with " + e, e);
            }
        }
        System.out.printf(
                "artifact fuzz (seed %d): %d corruptions (%d flips, %d truncations, %d deletions,"
                        + " %d swaps)%n  direct load: %d clean ArtifactExceptions, %d identical"
                        + " loads%n  Criteria:    %d ArtifactExceptions, %d DJL exceptions"
                        + " (serving.properties too damaged to reach the factory), %d identical"
                        + " loads%n",
                SEED,
                CASES,
                count(kinds, "flip"),
                count(kinds, "truncate"),
                count(kinds, "delete"),
                count(kinds, "swap"),
                directClean,
                directIdentical,
                criteriaOurs,
                criteriaDjl,
                criteriaIdentical);
        assertEquals(CASES, directClean + directIdentical);
        assertEquals(CASES, criteriaOurs + criteriaDjl + criteriaIdentical);
        assertEquals(directIdentical, criteriaIdentical, "both ways in agree on what loads");
        assertTrue(directClean > CASES / 2, "most corruptions are caught: " + directClean);
    }

    @Test
    void everySemanticEditIsRefusedOrLoadsIdentically() throws Exception {
        SemanticEdits edits = new SemanticEdits(pristine);
        Random random = new Random(SEED);
        Map<String, int[]> byKind = new TreeMap<>(); // kind -> {refused, identical}
        Map<String, String> firstMessage = new TreeMap<>();
        int refused = 0;
        int identical = 0;
        int noops = 0;
        try {
            for (int i = 0; i < SEMANTIC_CASES; i++) {
                Path dir = tmp.resolve("semantic" + i);
                Files.createDirectories(dir);
                SemanticEdits.Edit e = edits.apply(dir, random);
                String what = "semantic case " + i + " (" + e.kind() + ": " + e.description() + ")";
                int[] counts = byKind.computeIfAbsent(e.kind(), k -> new int[2]);
                boolean noop = e.kind().equals("noop");
                noops += noop ? 1 : 0;
                try (Model m = ArtifactLoader.load(dir)) {
                    assertTrue(noop, what + " loaded");
                    assertArrayEquals(expected, run(m), what + " loaded with other outputs");
                    identical++;
                    counts[1]++;
                } catch (ArtifactException x) {
                    assertFalse(noop, what + " refused: " + x.getMessage());
                    assertNotNull(x.getMessage(), what);
                    assertFalse(x.getMessage().contains("\n"), what + ": " + x.getMessage());
                    refused++;
                    counts[0]++;
                    firstMessage.putIfAbsent(e.kind(), e.description() + ": " + x.getMessage());
                } catch (Exception | Error x) {
                    fail(what + " failed with " + x + " instead of an ArtifactException", x);
                }
                assertEquals(0, SemanticEdits.PLANTED_RAN.get(), what + " ran planted code");
            }
        } finally {
            edits.close();
        }
        StringBuilder kinds = new StringBuilder();
        byKind.forEach(
                (k, c) ->
                        kinds.append(
                                String.format(
                                        "%n    %-16s %4d refused, %4d identical   e.g. %s",
                                        k,
                                        c[0],
                                        c[1],
                                        firstMessage.getOrDefault(k, "-"))));
        System.out.printf(
                "artifact semantic fuzz (seed %d, %s): %d edits with checksums recomputed%n"
                        + "  direct load: %d refused, %d identical loads (no-ops), planted code"
                        + " run %d times%s%n",
                SEED,
                edits.describe(),
                SEMANTIC_CASES,
                refused,
                identical,
                SemanticEdits.PLANTED_RAN.get(),
                kinds);
        assertEquals(SEMANTIC_CASES, refused + identical);
        assertEquals(noops, identical, "every no-op loads identically");
        assertEquals(SEMANTIC_CASES - noops, refused, "every semantic edit is refused");
        assertEquals(SemanticEdits.KINDS.length, byKind.size(), "every kind drawn: " + byKind);
        assertEquals(0, SemanticEdits.PLANTED_RAN.get());
    }

    private static long count(List<String> kinds, String kind) {
        return kinds.stream().filter(kind::equals).count();
    }
}
