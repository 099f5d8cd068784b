package ai.djlquant.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.Record;
import ai.djlquant.examples.TestData;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

class IdxDatasetTest {

    private static IdxDataset test;

    @BeforeAll
    static void load() throws IOException {
        test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        test.prepare();
    }

    @Test
    void committedTestSplitHasTenThousandBalancedImages() {
        assertEquals(10_000, test.size());
        int[] histogram = new int[FashionMnist.NUM_CLASSES];
        for (int i = 0; i < test.size(); i++) {
            histogram[test.getLabel(i)]++;
        }
        int[] expected = new int[FashionMnist.NUM_CLASSES];
        java.util.Arrays.fill(expected, 1000);
        assertArrayEquals(expected, histogram);
        // first labels of t10k-labels-idx1-ubyte: ankle boot, pullover, trouser, trouser, shirt
        assertArrayEquals(
                new int[] {9, 2, 1, 1, 6},
                new int[] {
                    test.getLabel(0),
                    test.getLabel(1),
                    test.getLabel(2),
                    test.getLabel(3),
                    test.getLabel(4)
                });
    }

    @Test
    void rawPixelsSpanTheFullByteRange() {
        int min = 255;
        int max = 0;
        long sum = 0;
        for (int i = 0; i < test.size(); i++) {
            for (byte b : test.pixelsOf(i)) {
                int v = b & 0xFF;
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
        }
        assertEquals(0, min);
        assertEquals(255, max);
        // the test split's mean pixel is 0.2868 of full scale, next to the train mean 0.2860
        double mean = sum / (255.0 * test.size() * 28 * 28);
        assertEquals(FashionMnist.MEAN, mean, 0.002);
    }

    @Test
    void recordsAreNormalisedTensors() throws IOException {
        float lowest = (0f - FashionMnist.MEAN) / FashionMnist.STD;
        float highest = (1f - FashionMnist.MEAN) / FashionMnist.STD;
        try (NDManager manager = NDManager.newBaseManager()) {
            Record record = test.get(manager, 0);
            NDArray x = record.getData().singletonOrThrow();
            assertEquals(new Shape(1, 28, 28), x.getShape());
            assertEquals(DataType.FLOAT32, x.getDataType());
            assertEquals(lowest, x.min().getFloat(), 1e-5);
            assertEquals(highest, x.max().getFloat(), 1e-5);
            assertEquals(9f, record.getLabels().singletonOrThrow().getFloat());

            // the whole split, preprocessed in one batch: mean ~0 and std ~1 prove the constants
            NDArray all =
                    FashionMnist.newPipeline()
                            .transform(new NDList(test.rawImages(manager, 0, 10_000)))
                            .singletonOrThrow();
            assertEquals(new Shape(10_000, 1, 28, 28), all.getShape());
            float mean = all.mean().getFloat();
            float std = (float) Math.sqrt(all.sub(mean).square().mean().getFloat());
            assertEquals(0f, mean, 0.01f);
            assertEquals(1f, std, 0.01f);
            // batch preprocessing gives exactly the per-record tensor
            assertArrayEquals(
                    x.toFloatArray(), all.get(0).toFloatArray(), "batch and record differ");
        }
    }

    @Test
    void readsUncompressedFiles(@TempDir Path dir) throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), IdxFile.IMAGES_MAGIC, 3, 28, 28, 3);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), 3, 3, false);
        IdxDataset small = IdxDataset.builder().setDirectory(dir).build();
        small.prepare();
        assertEquals(3, small.size());
        assertEquals(2, small.getLabel(2));
        assertEquals(2, small.pixelsOf(2)[5]);
    }

    @Test
    void missingDirectoryNamesTheDirectory(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-dir");
        IdxDataset set = IdxDataset.builder().setDirectory(missing).build();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, set::prepare);
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void missingFileNamesTheFile(@TempDir Path dir) {
        IdxDataset set =
                IdxDataset.builder().setDirectory(dir).optUsage(Dataset.Usage.TRAIN).build();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, set::prepare);
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void corruptHeaderNamesFileAndMagic(@TempDir Path dir) throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
        writeImages(images, 0x00000801, 3, 28, 28, 3);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), 3, 3, true);
        IOException e = assertThrows(IOException.class, () -> prepare(dir));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("bad IDX magic number 0x00000801"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 0x00000803"), e.getMessage());
    }

    @Test
    void truncatedImagesNameFileAndSizes(@TempDir Path dir) throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
        // the header promises 5 images, only 3 follow
        writeImages(images, IdxFile.IMAGES_MAGIC, 5, 28, 28, 3);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), 5, 5, true);
        IOException e = assertThrows(IOException.class, () -> prepare(dir));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("5 images of 28x28 (3920 bytes)"), e.getMessage());
        assertTrue(e.getMessage().contains("only 2352 bytes"), e.getMessage());
    }

    @Test
    void truncatedHeaderIsReported(@TempDir Path dir) throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte");
        Files.write(images, new byte[] {0, 0, 8, 3, 0, 0});
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), 1, 1, false);
        IOException e = assertThrows(IOException.class, () -> prepare(dir));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void disagreeingCountsNameBothFiles(@TempDir Path dir) throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        writeImages(images, IdxFile.IMAGES_MAGIC, 4, 28, 28, 4);
        writeLabels(labels, 3, 3, true);
        IOException e = assertThrows(IOException.class, () -> prepare(dir));
        assertEquals(images + " holds 4 images but " + labels + " holds 3 labels", e.getMessage());
    }

    @Test
    void labelOutOfRangeIsReported(@TempDir Path dir) throws IOException {
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        writeImages(dir.resolve("t10k-images-idx3-ubyte.gz"), IdxFile.IMAGES_MAGIC, 12, 28, 28, 12);
        writeLabels(labels, 12, 12, true);
        IOException e = assertThrows(IOException.class, () -> prepare(dir));
        assertEquals(labels + ": label 10 at index 10 is outside 0..9", e.getMessage());
    }

    @Test
    void unpreparedDatasetSaysSo(@TempDir Path dir) {
        IdxDataset set = IdxDataset.builder().setDirectory(dir).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, set::size);
        assertTrue(e.getMessage().contains("call prepare() first"), e.getMessage());
    }

    private static void prepare(Path dir) throws IOException {
        IdxDataset.builder().setDirectory(dir).build().prepare();
    }

    /** Writes an images file whose header says {@code count} images; image i is filled with i. */
    static void writeImages(Path file, int magic, int count, int rows, int cols, int written)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < written; i++) {
            for (int p = 0; p < rows * cols; p++) {
                out.writeByte(i);
            }
        }
        write(file, bytes.toByteArray(), file.toString().endsWith(".gz"));
    }

    /** Writes a labels file whose header says {@code count} labels; label i is i. */
    static void writeLabels(Path file, int count, int written, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(IdxFile.LABELS_MAGIC);
        out.writeInt(count);
        for (int i = 0; i < written; i++) {
            out.writeByte(i);
        }
        write(file, bytes.toByteArray(), gzip);
    }

    private static void write(Path file, byte[] content, boolean gzip) throws IOException {
        try (OutputStream out =
                gzip
                        ? new GZIPOutputStream(Files.newOutputStream(file))
                        : Files.newOutputStream(file)) {
            out.write(content);
        }
    }
}
