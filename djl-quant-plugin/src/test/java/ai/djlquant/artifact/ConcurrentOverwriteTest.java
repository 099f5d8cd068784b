package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Loads an artifact over and over (at least 20 times) while another thread overwrites it, alternately with one of two models: every
 * load gives exactly one of the two models (never a mixture of their files): a load whose generation
 * an overwrite deletes under it starts again on the new one ({@link ArtifactLayout#readCurrent}),
 * and is refused, naming the generation, only if that happens {@link ArtifactLayout#MAX_READS}
 * times in a row; and after the last overwrite the directory holds only the
 * link and its one generation.
 */
class ConcurrentOverwriteTest {

    @TempDir Path tmp;

    @Test
    void everyLoadDuringOverwritesIsOneWholeArtifact() throws Exception {
        Path target = tmp.resolve("served");
        try (NDManager manager = NDManager.newBaseManager();
                Model a = TestNets.floatModel(new TestNets.ResidualNet(), "net", 1);
                Model b = TestNets.floatModel(new TestNets.ResidualNet(), "net", 2)) {
            TestNets.quantize(a);
            TestNets.quantize(b);
            NDArray x = TestNets.batches(manager, 1, 7).get(0).singletonOrThrow();
            float[] outA = TestNets.run(a, x);
            float[] outB = TestNets.run(b, x);
            writer(a).write(target);

            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger loadsSoFar = new AtomicInteger();
            List<Throwable> writerFailures = new ArrayList<>();
            Thread overwriter =
                    new Thread(
                            () -> {
                                try {
                                    // at least 12 overwrites, and on until 20 loads ran during
                                    // them (whichever side the scheduler favours); ends on A
                                    for (int i = 0;
                                            i < 200 && (i < 12 || loadsSoFar.get() < 20);
                                            i += 2) {
                                        writer(b).write(target);
                                        writer(a).write(target);
                                    }
                                } catch (Throwable t) {
                                    writerFailures.add(t);
                                } finally {
                                    done.set(true);
                                }
                            });
            overwriter.start();
            int loads = 0;
            int sawA = 0;
            int sawB = 0;
            int missing = 0;
            while (!done.get() || loads == 0) {
                try (Model loaded = ArtifactLoader.load(target)) {
                    float[] out = TestNets.run(loaded, x);
                    boolean isA = Arrays.equals(outA, out);
                    boolean isB = Arrays.equals(outB, out);
                    assertTrue(isA || isB, "load " + loads + " is neither artifact");
                    sawA += isA ? 1 : 0;
                    sawB += isB ? 1 : 0;
                } catch (ArtifactException e) {
                    // overwrites replaced the generation under this load MAX_READS times in a
                    // row: refused, naming a file or directory of that generation
                    assertTrue(e.getMessage().contains(".gen-"), e.getMessage());
                    missing++;
                }
                loads++;
                loadsSoFar.incrementAndGet();
            }
            overwriter.join();
            assertEquals(List.of(), writerFailures);
            System.out.printf(
                    "concurrent overwrite: %d loads, %d of A, %d of B, %d refused (generation"
                            + " replaced under them %d times in a row)%n",
                    loads, sawA, sawB, missing, ArtifactLayout.MAX_READS);
            assertTrue(loads >= 20, "loads " + loads);
            try (Model loaded = ArtifactLoader.load(target)) {
                assertTrue(Arrays.equals(outA, TestNets.run(loaded, x)), "the last write was A");
            }
            try (Stream<Path> s = Files.list(target)) {
                assertEquals(2, s.count(), "the link and its one generation");
            }
        }
    }

    private static ArtifactWriter writer(Model m) {
        return ArtifactWriter.builder()
                .setModel(m)
                .setBaseBlockFactory(TestNets.ResidualNet.class)
                .optOverwrite(true)
                .build();
    }
}
