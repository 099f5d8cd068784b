package ai.djlquant.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Record;
import ai.djlquant.examples.TestData;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

class ImageFolderDatasetTest {

    private static final Pattern NAME = Pattern.compile("train-(\\d{5})\\.png");

    private static ImageFolderDataset calibration;
    private static IdxDataset test;

    @BeforeAll
    static void load() throws IOException {
        calibration = ImageFolderDataset.builder().setRoot(TestData.calibrationDir()).build();
        calibration.prepare();
        test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        test.prepare();
    }

    @Test
    void calibrationSubsetHasHundredImagesPerClass() {
        assertEquals(1000, calibration.size());
        assertEquals(FashionMnist.FOLDER_NAMES, calibration.getClasses());
        int[] histogram = new int[FashionMnist.NUM_CLASSES];
        for (int i = 0; i < calibration.size(); i++) {
            histogram[calibration.getLabel(i)]++;
        }
        int[] expected = new int[FashionMnist.NUM_CLASSES];
        Arrays.fill(expected, 100);
        assertArrayEquals(expected, histogram);
    }

    @Test
    void calibrationFilesKeepDistinctTrainIndicesInNameOrder() {
        boolean[] seen = new boolean[60_000];
        String previous = "";
        int previousLabel = -1;
        for (int i = 0; i < calibration.size(); i++) {
            String name = calibration.getPath(i).getFileName().toString();
            Matcher m = NAME.matcher(name);
            assertTrue(m.matches(), name);
            int index = Integer.parseInt(m.group(1));
            assertTrue(index < 60_000, name);
            assertTrue(!seen[index], "duplicate " + name);
            seen[index] = true;
            if (calibration.getLabel(i) == previousLabel) {
                assertTrue(name.compareTo(previous) > 0, "not sorted: " + previous + ", " + name);
            }
            previous = name;
            previousLabel = calibration.getLabel(i);
        }
    }

    @Test
    void calibrationImagesAreGrayscale28x28WithFullRange() throws IOException {
        int min = 255;
        int max = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int i = 0; i < calibration.size(); i++) {
                Image image = calibration.getImage(i);
                assertEquals(28, image.getWidth());
                assertEquals(28, image.getHeight());
                BufferedImage wrapped = (BufferedImage) image.getWrappedImage();
                assertEquals(BufferedImage.TYPE_BYTE_GRAY, wrapped.getType(), "not 8-bit gray");
                int[] pixels = wrapped.getRaster().getPixels(0, 0, 28, 28, (int[]) null);
                for (int p : pixels) {
                    min = Math.min(min, p);
                    max = Math.max(max, p);
                }
            }
            Record record = calibration.get(manager, 0);
            NDArray x = record.getData().singletonOrThrow();
            assertEquals(new Shape(1, 28, 28), x.getShape());
            assertEquals(0f, record.getLabels().singletonOrThrow().getFloat());
            float lowest = (0f - FashionMnist.MEAN) / FashionMnist.STD;
            float highest = (1f - FashionMnist.MEAN) / FashionMnist.STD;
            assertTrue(x.min().getFloat() >= lowest - 1e-5f);
            assertTrue(x.max().getFloat() <= highest + 1e-5f);
        }
        assertEquals(0, min);
        assertEquals(255, max);
    }

    @Test
    void pngFolderAndIdxGiveTheSameTensors(@TempDir Path dir) throws IOException {
        // the same images written as PNGs the way MakeCalibrationSubset writes them
        int count = 60;
        for (int i = 0; i < count; i++) {
            Path folder = dir.resolve(FashionMnist.FOLDER_NAMES.get(test.getLabel(i)));
            Files.createDirectories(folder);
            MakeCalibrationSubset.writePng(
                    test.pixelsOf(i), folder.resolve(String.format("t10k-%05d.png", i)));
        }
        ImageFolderDataset pngs = ImageFolderDataset.builder().setRoot(dir).build();
        pngs.prepare();
        assertEquals(count, pngs.size());
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int k = 0; k < count; k++) {
                String name = pngs.getPath(k).getFileName().toString();
                int i = Integer.parseInt(name.substring(5, 10));
                Record fromPng = pngs.get(manager, k);
                Record fromIdx = test.get(manager, i);
                assertArrayEquals(
                        fromIdx.getData().singletonOrThrow().toFloatArray(),
                        fromPng.getData().singletonOrThrow().toFloatArray(),
                        name);
                assertEquals(test.getLabel(i), pngs.getLabel(k), name);

                // what the translator does with a DJL Image made from the IDX bytes
                NDArray viaImage =
                        FashionMnist.newPipeline()
                                .transform(
                                        new NDList(
                                                test.getImage(i)
                                                        .toNDArray(manager, Image.Flag.GRAYSCALE)))
                                .singletonOrThrow();
                assertArrayEquals(
                        fromIdx.getData().singletonOrThrow().toFloatArray(),
                        viaImage.toFloatArray(),
                        name);
            }
        }
    }

    @Test
    void calibrationSelectionIsBalancedAndSeeded() {
        List<List<Integer>> a = MakeCalibrationSubset.choose(test, 42, 100);
        List<List<Integer>> b = MakeCalibrationSubset.choose(test, 42, 100);
        List<List<Integer>> c = MakeCalibrationSubset.choose(test, 7, 100);
        assertEquals(a, b);
        assertNotEquals(a, c);
        for (int label = 0; label < FashionMnist.NUM_CLASSES; label++) {
            List<Integer> chosen = a.get(label);
            assertEquals(100, chosen.size());
            for (int k = 0; k < chosen.size(); k++) {
                assertEquals(label, test.getLabel(chosen.get(k)));
                if (k > 0) {
                    assertTrue(chosen.get(k) > chosen.get(k - 1));
                }
            }
        }
    }

    @Test
    void missingRootNamesTheFolder(@TempDir Path dir) {
        Path missing = dir.resolve("calibration");
        ImageFolderDataset set = ImageFolderDataset.builder().setRoot(missing).build();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, set::prepare);
        assertEquals(missing + ": image folder not found", e.getMessage());
    }

    @Test
    void emptyRootAndEmptyClassAreReported(@TempDir Path dir) throws IOException {
        ImageFolderDataset set = ImageFolderDataset.builder().setRoot(dir).build();
        IOException e = assertThrows(IOException.class, set::prepare);
        assertEquals(dir + ": no class folders in the image folder", e.getMessage());

        Path empty = Files.createDirectories(dir.resolve("0-tshirt-top"));
        e =
                assertThrows(
                        IOException.class,
                        ImageFolderDataset.builder().setRoot(dir).build()::prepare);
        assertEquals(empty + ": class folder holds no images", e.getMessage());
    }

    @Test
    void wrongSizeAndBrokenImagesNameTheFile(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("0-tshirt-top"));
        Path big = folder.resolve("a-big.png");
        ImageIO.write(new BufferedImage(32, 30, BufferedImage.TYPE_BYTE_GRAY), "png", big.toFile());
        Path broken = folder.resolve("b-broken.png");
        Files.write(broken, new byte[] {1, 2, 3, 4});
        ImageFolderDataset set = ImageFolderDataset.builder().setRoot(dir).build();
        set.prepare();
        try (NDManager manager = NDManager.newBaseManager()) {
            IOException e = assertThrows(IOException.class, () -> set.get(manager, 0));
            assertEquals(big + ": image is 32x30, expected 28x28", e.getMessage());
            e = assertThrows(IOException.class, () -> set.get(manager, 1));
            assertTrue(
                    e.getMessage().startsWith(broken + ": not a readable image"), e.getMessage());
        }
    }
}
