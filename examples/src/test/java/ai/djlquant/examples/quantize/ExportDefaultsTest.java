package ai.djlquant.examples.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.artifact.ArtifactWriter;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.models.MlpBlockFactory;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.plan.Objective;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

/**
 * The export's default base block factory: a model loaded from a directory whose
 * serving.properties names a {@code blockFactory} needs no {@code setBaseBlockFactory}; a model
 * built in code must name it, and the message says so.
 */
class ExportDefaultsTest {

    @TempDir Path tmp;

    @Test
    void theBaseFactoryComesFromTheSourceModelsServingProperties() throws Exception {
        List<Image> images = CalibrationImages.load(TestData.calibrationDir(), 64);
        try (ZooModel<Image, Classifications> model =
                ReferenceModel.MLP.load(TestData.modelsDir())) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromInputs(images, FashionMnist.newTranslator(), 32),
                            QuantizationConfig.builder()
                                    .optObjective(Objective.SIZE)
                                    .optTimeModel(false)
                                    .build());
            Path out = tmp.resolve("mlp-int8");
            ArtifactWriter.builder().setModel(model).optReport(r).build().write(out);
            ArtifactManifest m = ArtifactLoader.verify(out);
            assertEquals(MlpBlockFactory.class.getName(), m.getBaseBlockFactory());
        }
    }

    @Test
    void aModelBuiltInCodeMustNameIt() {
        try (Model model = Model.newInstance("built")) {
            model.setBlock(MlpBlockFactory.build());
            model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 784));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> ArtifactWriter.builder().setModel(model).build());
            assertTrue(
                    e.getMessage().startsWith(
                            "setBaseBlockFactory is required: the model was not loaded from a"
                                    + " directory whose serving.properties names a blockFactory"),
                    e.getMessage());
        }
    }
}
