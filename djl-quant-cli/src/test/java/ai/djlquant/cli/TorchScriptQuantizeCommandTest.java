package ai.djlquant.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.FashionMnistTranslatorFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code djl-quant quantize --model file.pt}: the traced model is imported, quantized and written
 * as an artifact that carries the {@code .pt} and loads through {@code Criteria}.
 */
class TorchScriptQuantizeCommandTest {

    private static final Path PT =
            Paths.get("../djl-quant-plugin/src/test/resources/torchscript/fmnist_resnet.pt")
                    .toAbsolutePath().normalize();

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = DjlQuant.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void quantizesATorchScriptFileIntoAnArtifactThatLoadsThroughCriteria(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("int8");
        String[] r = run("quantize", "--model", PT.toString(), "--input-shape", "1,1,28,28",
                "--translator-factory", "ai.djlquant.examples.data.FashionMnistTranslatorFactory",
                "--samples", "64", "--objective", "size", "--output", out.toString());
        assertEquals("0", r[0], String.join("\n", r));
        assertTrue(r[1].contains("quantizing fmnist_resnet.pt"), r[1]);
        assertTrue(r[1].contains("fmnist_resnet.pt "), "the artifact lists the .pt: " + r[1]);
        assertTrue(
                Files.isRegularFile(
                        ArtifactLoader.filesDirectory(out).resolve("fmnist_resnet.pt")));

        // the translator as the CLI's own commands give it (ModelRef.load)
        Criteria<Image, Classifications> c = Criteria.builder()
                .setTypes(Image.class, Classifications.class)
                .optModelPath(out)
                .optTranslatorFactory(new FashionMnistTranslatorFactory())
                .build();
        Path image;
        try (Stream<Path> s = Files.walk(Paths.get("../calibration-data/calibration"))) {
            image = s.filter(p -> p.toString().endsWith(".png")).sorted().findFirst().orElseThrow();
        }
        try (ZooModel<Image, Classifications> m = c.loadModel();
                var predictor = m.newPredictor()) {
            Classifications got = predictor.predict(ImageFactory.getInstance().fromFile(image));
            assertTrue(FashionMnist.CLASS_NAMES.contains(got.best().getClassName()), got.toString());
        }
    }

    @Test
    void aTorchScriptFileWithoutAnInputShapeIsAnArgumentError(@TempDir Path tmp) {
        String[] r = run("quantize", "--model", PT.toString(), "--translator-factory",
                "ai.djlquant.examples.data.FashionMnistTranslatorFactory",
                "--output", tmp.resolve("x").toString());
        assertEquals("2", r[0], String.join("\n", r));
        assertTrue(r[2].contains("is a TorchScript file: give --input-shape"), r[2]);
        assertEquals(List.of(), List.of(tmp.toFile().list()));
    }
}
