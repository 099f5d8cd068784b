package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import ai.djl.util.Pair;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import javax.imageio.ImageIO;

/**
 * {@link Top1Evaluator} on a classifier whose answer is known: a Linear that calls an 8x8 image
 * "bright" when its mean pixel is above 128. A folder of class sub-folders with one image filed
 * under the wrong class gives 5 of 6; the same numbers as an accuracy goal's fp32 metric.
 */
class Top1EvaluatorTest {

    @TempDir Path tmp;

    /** 8x8 grayscale to 64 floats; logits to "dark" / "bright". */
    static final class Brightness implements Translator<Image, Classifications> {
        @Override
        public NDList processInput(TranslatorContext ctx, Image input) {
            NDArray a = input.toNDArray(ctx.getNDManager(), Image.Flag.GRAYSCALE);
            return new NDList(a.toType(DataType.FLOAT32, false).reshape(64));
        }

        @Override
        public Classifications processOutput(TranslatorContext ctx, NDList list) {
            return new Classifications(List.of("dark", "bright"), list.singletonOrThrow().softmax(0));
        }
    }

    /** logit(bright) - logit(dark) = 2 * (sum of pixels - 128 * 64) / 64. */
    private static Model brightnessModel() {
        Model model = TestModels.model(Linear.builder().setUnits(2).build(), new Shape(1, 64));
        float[] w = new float[128];
        Arrays.fill(w, 0, 64, -1f / 64);
        Arrays.fill(w, 64, 128, 1f / 64);
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            NDArray a = p.getValue().getArray();
            a.set(p.getKey().equals("weight") ? w : new float[] {128, -128});
        }
        return model;
    }

    private static void image(Path file, int value) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                img.getRaster().setSample(x, y, 0, value);
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private void labelledFolder() throws IOException {
        image(tmp.resolve("0-dark/a.png"), 10);
        image(tmp.resolve("0-dark/b.png"), 50);
        image(tmp.resolve("0-dark/c.png"), 100);
        image(tmp.resolve("1-bright/a.png"), 200);
        image(tmp.resolve("1-bright/b.png"), 250);
        image(tmp.resolve("1-bright/misfiled.png"), 20);
    }

    @Test
    void countsHitsByTheBestClassPosition() throws Exception {
        labelledFolder();
        Top1Evaluator<Image> e = Top1Evaluator.ofImageFolder(tmp, new Brightness(), 4);
        assertEquals(6, e.size());
        assertEquals("6 images in 2 classes of " + tmp, e.describe());
        try (Model model = brightnessModel()) {
            Top1Evaluator.Result r = e.evaluate(model);
            assertEquals(new Top1Evaluator.Result(6, 5), r);
            assertEquals(5.0 / 6, r.top1());
            assertEquals(new Top1Evaluator.Result(3, 3), e.evaluate(model, 3)); // the dark ones
        }
    }

    @Test
    void isTheMetricOfAnAccuracyGoal() throws Exception {
        labelledFolder();
        Top1Evaluator<Image> e = Top1Evaluator.ofImageFolder(tmp, new Brightness(), 4);
        try (Model model = brightnessModel()) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromImageFolder(tmp, new Brightness(), 3),
                            TestConfigs.builder()
                                    .optCalibrationSamples(6)
                                    .optAccuracyGoal(e.goal(0.5))
                                    .build());
            QuantizationReport.GoalResult g = r.getAccuracyGoal();
            assertEquals(5.0 / 6, g.fp32().value());
            assertEquals("top-1 on " + e.describe(), g.metric());
            assertTrue(g.met(), r.toTable());
        }
    }

    @Test
    void badDataIsNamed() throws Exception {
        image(tmp.resolve("flat.png"), 1);
        image(tmp.resolve("0-dark/a.png"), 1);
        IllegalArgumentException flat =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Top1Evaluator.ofImageFolder(tmp, new Brightness(), 4));
        assertEquals(
                "the test image folder "
                        + tmp
                        + " holds images outside class sub-folders (the first: image 0 in path"
                        + " order); put each class's images in a sub-folder.",
                flat.getMessage());
        Path missing = tmp.resolve("none");
        assertEquals(
                "the test image folder " + missing + " does not exist.",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Top1Evaluator.ofImageFolder(missing, new Brightness(), 4))
                        .getMessage());
        Translator<String, Classifications> text =
                new Translator<>() {
                    @Override
                    public NDList processInput(TranslatorContext ctx, String input) {
                        return new NDList(ctx.getNDManager().create(input.length()));
                    }

                    @Override
                    public Classifications processOutput(TranslatorContext ctx, NDList list) {
                        return new Classifications(List.of("a"), List.of(1.0));
                    }
                };
        assertEquals(
                "inputs and labels differ in length: 2 inputs, 1 labels.",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Top1Evaluator.of(List.of("a", "b"), List.of(0), text, 1))
                        .getMessage());
    }
}
