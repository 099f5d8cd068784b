package ai.djlquant.examples.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.Input;
import ai.djl.modality.Output;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.IdxDataset;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The calibration script end to end on the reference MLP (the first 500 test images, one timing
 * round): it exports an artifact that verifies, reloads it through Criteria with identical outputs,
 * and writes its summary; and the wrapping example's predictor keeps working after the two lines
 * that quantize its model.
 */
class QuantizeReferenceModelTest {

    @TempDir Path tmp;

    @Test
    void scriptExportsReloadsAndSummarises() throws Exception {
        Path out = tmp.resolve("mlp-int8");
        Path json = tmp.resolve("summary.json");
        QuantizeReferenceModel.Options o =
                QuantizeReferenceModel.Options.parse(
                        new String[] {
                            "mlp",
                            "--models",
                            TestData.modelsDir().toString(),
                            "--calibration",
                            TestData.calibrationDir().toString(),
                            "--test",
                            TestData.testDir().toString(),
                            "--output",
                            out.toString(),
                            "--limit",
                            "500",
                            "--rounds",
                            "1",
                            "--json",
                            json.toString(),
                            // every layer int8 (the byte check below), whatever its speed here
                            "--objective",
                            "size"
                        });
        QuantizeReferenceModel.Summary s = QuantizeReferenceModel.run(o);
        assertTrue(s.identical, "the reloaded artifact predicts identically");
        assertEquals(500, s.compared);
        ArtifactManifest m = ArtifactLoader.verify(out);
        assertEquals(s.int8.getTop1(), m.getNumber("accuracy", "int8Top1"));
        assertEquals(512.0, m.getNumber("calibration", "samples"));
        JsonObject summary = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertTrue(summary.get("reloadIdentical").getAsBoolean());
        assertEquals(2, summary.getAsJsonArray("forward").size());
        assertTrue(
                summary.get("int8ParameterBytes").getAsLong() * 3
                        < summary.get("fp32ParameterBytes").getAsLong());
        // DJL Serving's path: Input -> Output through the artifact's translatorFactory
        IdxDataset test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        test.prepare();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        test.getImage(0).save(png, "png");
        Criteria<Input, Output> serving =
                Criteria.builder().setTypes(Input.class, Output.class).optModelPath(out).build();
        try (ZooModel<Input, Output> model = serving.loadModel();
                Predictor<Input, Output> predictor = model.newPredictor()) {
            Input input = new Input();
            input.add("data", png.toByteArray());
            String body = predictor.predict(input).getData().getAsString();
            assertTrue(body.contains("Ankle boot"), body);
        }

        // a second run needs --overwrite, and says so before doing any work
        IllegalArgumentException again =
                assertThrows(IllegalArgumentException.class, () -> QuantizeReferenceModel.run(o));
        assertTrue(again.getMessage().contains("--overwrite"), again.getMessage());
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizeReferenceModel.Options.parse(new String[] {"vgg"}));
        assertTrue(e.getMessage().contains("vgg"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                QuantizeReferenceModel.Options.parse(
                                        new String[] {"cnn", "--rounds", "2"}));
        assertTrue(e.getMessage().contains("--rounds"), e.getMessage());
    }

    @Test
    void wrappedPredictorKeepsWorkingAfterTheTwoLines() throws Exception {
        Path image = WrapPredictorExample.firstAnkleBoot(TestData.calibrationDir());
        List<String> lines =
                WrapPredictorExample.run(
                        TestData.modelsDir().resolve("mlp"), TestData.calibrationDir(), image);
        assertTrue(lines.get(0).startsWith("fp32: "), lines.get(0));
        assertTrue(lines.get(0).contains("Ankle boot"), lines.get(0));
        assertTrue(lines.get(1).contains("static"), lines.get(1));
        assertTrue(lines.get(2).startsWith("int8: "), lines.get(2));
        assertTrue(lines.get(2).contains("Ankle boot"), lines.get(2));
    }
}
