package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import ai.djlquant.plan.QuantizationMode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

/**
 * {@link CalibrationData#fromImageFolder}: flat and class folders read in path order through the
 * translator, non-images skipped, one sentence naming the folder or file for a missing, empty or
 * unreadable one, and a real quantization calibrated from a folder.
 */
class CalibrationImageFolderTest {

    @TempDir Path tmp;

    /** 8x8 grayscale images to 64 floats, the pixel values unchanged. */
    static final class Pixels implements Translator<Image, float[]> {
        @Override
        public NDList processInput(TranslatorContext ctx, Image input) {
            NDArray a = input.toNDArray(ctx.getNDManager(), Image.Flag.GRAYSCALE);
            return new NDList(a.toType(DataType.FLOAT32, false).reshape(64));
        }

        @Override
        public float[] processOutput(TranslatorContext ctx, NDList list) {
            return list.singletonOrThrow().toFloatArray();
        }
    }

    /** Writes an 8x8 grayscale image whose every pixel is {@code value}. */
    private static void image(Path file, int value) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                img.getRaster().setSample(x, y, 0, value);
            }
        }
        String name = file.getFileName().toString();
        ImageIO.write(img, name.substring(name.lastIndexOf('.') + 1), file.toFile());
    }

    /** The first pixel of each sample of every batch, and the batch sizes. */
    private static List<Float> firstPixels(CalibrationData data, long limit, List<Integer> sizes) {
        List<Float> out = new ArrayList<>();
        try (Model model = Model.newInstance("folder");
                NDManager m = NDManager.newBaseManager()) {
            data.forEach(
                    model,
                    m,
                    limit,
                    1,
                    (batch, n) -> {
                        sizes.add(n);
                        NDArray a = batch.singletonOrThrow();
                        assertEquals(new Shape(n, 64), a.getShape());
                        for (int i = 0; i < n; i++) {
                            out.add(a.get(i).getFloat(0));
                        }
                    });
        }
        return out;
    }

    @Test
    void aFlatFolderGivesItsImagesInNameOrderSkippingOtherFiles() throws Exception {
        image(tmp.resolve("c.png"), 30);
        image(tmp.resolve("a.png"), 10);
        image(tmp.resolve("b.bmp"), 20);
        image(tmp.resolve("d.png"), 40);
        image(tmp.resolve("e.png"), 50);
        Files.writeString(tmp.resolve("notes.txt"), "not an image");
        CalibrationData data = CalibrationData.fromImageFolder(tmp, new Pixels(), 2);
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(5, data.count(m, 100));
            assertEquals(3, data.count(m, 3));
        }
        List<Integer> sizes = new ArrayList<>();
        assertEquals(List.of(10f, 20f, 30f, 40f, 50f), firstPixels(data, 100, sizes));
        assertEquals(List.of(2, 2, 1), sizes);
        assertTrue(data.describe().startsWith("5 images of " + tmp + " through Pixels"), data.describe());
        // fewer asked for: a subset, in folder order
        List<Float> some = firstPixels(data, 3, new ArrayList<>());
        assertEquals(3, some.size());
        assertTrue(some.get(0) < some.get(1) && some.get(1) < some.get(2), some.toString());
    }

    @Test
    void classSubFoldersAreReadTooLabelsIgnored() throws Exception {
        image(tmp.resolve("0-tshirt/x1.png"), 1);
        image(tmp.resolve("0-tshirt/x2.png"), 2);
        image(tmp.resolve("1-trouser/y1.jpg"), 200); // lossy, but a flat image stays near
        image(tmp.resolve("1-trouser/y2.png"), 4);
        Files.createDirectories(tmp.resolve("2-empty"));
        CalibrationData data = CalibrationData.fromImageFolder(tmp, new Pixels(), 32);
        List<Float> px = firstPixels(data, 100, new ArrayList<>());
        assertEquals(4, px.size());
        assertEquals(List.of(1f, 2f), px.subList(0, 2));
        assertTrue(Math.abs(px.get(2) - 200) <= 2, px.toString());
        assertEquals(4f, px.get(3));
    }

    @Test
    void aMissingEmptyOrUnreadableFolderIsNamed() throws Exception {
        Path missing = tmp.resolve("none");
        assertEquals(
                "the calibration image folder " + missing + " does not exist.",
                message(missing));
        Path file = tmp.resolve("file.png");
        Files.writeString(file, "x");
        assertEquals(
                "the calibration image folder " + file + " is a file, not a folder.",
                message(file));
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty.resolve("class-a"));
        Files.writeString(empty.resolve("readme.txt"), "no images here");
        assertEquals(
                "the calibration image folder "
                        + empty
                        + " holds no images (.png, .jpg, .jpeg, .bmp, .gif) directly or in its"
                        + " sub-folders.",
                message(empty));
        Path broken = tmp.resolve("broken");
        image(broken.resolve("a.png"), 5);
        Files.writeString(broken.resolve("b.png"), "these bytes are not a PNG");
        CalibrationData data = CalibrationData.fromImageFolder(broken, new Pixels(), 4);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> firstPixels(data, 100, new ArrayList<>()));
        assertTrue(
                e.getMessage().startsWith(
                        "the calibration image " + broken.resolve("b.png") + " cannot be read as an image"),
                e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> CalibrationData.fromImageFolder(broken, new Pixels(), 0));
    }

    @Test
    void aModelQuantizesFromAFolder() throws Exception {
        for (int i = 0; i < 40; i++) {
            image(tmp.resolve("class-" + (i % 4) + "/img-" + i + ".png"), (i * 37) % 256);
        }
        try (Model model = TestModels.model(Linear.builder().setUnits(16).build(), new Shape(1, 64))) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromImageFolder(tmp, new Pixels(), 8),
                            TestConfigs.builder().optCalibrationSamples(32).build());
            assertEquals(32, r.getCalibrationSamples());
            assertEquals(4, r.getCalibration().batches());
            assertTrue(r.getCalibration().source().startsWith("40 images of " + tmp), r.toTable());
            assertTrue(r.getLayers().get(0).getMode() != QuantizationMode.FP32, r.toTable());
        }
    }

    private static String message(Path dir) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> CalibrationData.fromImageFolder(dir, new Pixels(), 8))
                .getMessage();
    }
}
