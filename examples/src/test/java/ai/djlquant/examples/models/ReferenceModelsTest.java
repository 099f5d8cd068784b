package ai.djlquant.examples.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.Input;
import ai.djl.modality.Output;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.EvaluationResult;
import ai.djlquant.examples.eval.ModelEvaluator;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

class ReferenceModelsTest {

    private static ModelEvaluator evaluator;
    private static IdxDataset test;

    @BeforeAll
    static void setUp() throws IOException {
        test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        evaluator =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optMeasureLatency(false)
                        .build();
    }

    @ParameterizedTest
    @EnumSource(ReferenceModel.class)
    void committedModelReproducesItsMetrics(ReferenceModel m) throws Exception {
        Path dir = TestData.modelsDir().resolve(m.modelName());
        assertTrue(
                Files.isRegularFile(dir.resolve(m.modelName() + "-0000.params")), dir.toString());
        double recorded = ReferenceModel.recordedTop1(dir);
        assertTrue(
                recorded >= m.getTargetTop1(),
                m + " records " + recorded + ", below its target " + m.getTargetTop1());
        try (ZooModel<Image, Classifications> model = ReferenceModel.loadDirectory(dir)) {
            EvaluationResult result = evaluator.evaluate(m.modelName(), model);
            assertEquals(10_000, result.getSamples());
            assertEquals(recorded, result.getTop1(), 0.001, m + " on the committed test split");

            // the model's own translator (FashionMnistTranslatorFactory) on one image
            try (Predictor<Image, Classifications> predictor = model.newPredictor()) {
                Classifications c = predictor.predict(test.getImage(0));
                assertEquals(FashionMnist.CLASS_NAMES.size(), c.getClassNames().size());
                assertEquals("Ankle boot", c.best().getClassName(), "test image 0");
                assertEquals(1.0, c.getProbabilities().stream().mapToDouble(d -> d).sum(), 1e-4);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ReferenceModel.class)
    void plainCriteriaLoadsTheBlockFromServingProperties(ReferenceModel m) throws Exception {
        Path dir = TestData.modelsDir().resolve(m.modelName());
        Criteria<NDList, NDList> criteria =
                Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(dir).build();
        try (ZooModel<NDList, NDList> model = criteria.loadModel();
                Predictor<NDList, NDList> predictor = model.newPredictor();
                NDManager manager = NDManager.newBaseManager()) {
            assertEquals(m.getBlockFactory().getName(), model.getProperty("blockFactory"));
            NDArray x =
                    FashionMnist.newPipeline()
                            .transform(new NDList(test.rawImages(manager, 0, 8)))
                            .singletonOrThrow();
            NDArray logits = predictor.predict(new NDList(x)).singletonOrThrow();
            assertEquals(new Shape(8, 10), logits.getShape());
            long[] predicted = logits.argMax(1).toLongArray();
            int hits = 0;
            for (int i = 0; i < 8; i++) {
                hits += predicted[i] == test.getLabel(i) ? 1 : 0;
            }
            assertTrue(hits >= 7, m + " got " + hits + " of the first 8 test images");
        }
    }

    @Test
    void servingPropertiesTranslatorFactoryServesPngBytes() throws Exception {
        // DJL Serving's path: Input -> Output picks the translatorFactory of serving.properties
        Path dir = TestData.modelsDir().resolve("cnn");
        Criteria<Input, Output> criteria =
                Criteria.builder().setTypes(Input.class, Output.class).optModelPath(dir).build();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        test.getImage(0).save(png, "png");
        try (ZooModel<Input, Output> model = criteria.loadModel();
                Predictor<Input, Output> predictor = model.newPredictor()) {
            Input input = new Input();
            input.add("data", png.toByteArray());
            String body = predictor.predict(input).getData().getAsString();
            assertTrue(body.contains("Ankle boot"), body);
        }
    }

    @Test
    void resnetUsesParallelBlockShortcuts() {
        int parallel = 0;
        Deque<Block> todo = new ArrayDeque<>();
        todo.push(ReferenceModel.RESNET.newBlock());
        while (!todo.isEmpty()) {
            Block b = todo.pop();
            if (b instanceof ParallelBlock) {
                parallel++;
            }
            b.getChildren().values().forEach(todo::push);
        }
        assertEquals(3, parallel);
    }

    @Test
    void missingModelDirectoryNamesTheFile(@TempDir Path dir) {
        NoSuchFileException e =
                assertThrows(NoSuchFileException.class, () -> ReferenceModel.CNN.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("cnn").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("serving.properties missing"), e.getMessage());
    }

    @Test
    void corruptMetricsAreReported(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("metrics.json"), "{\"test_samples\": 10000}");
        IOException e = assertThrows(IOException.class, () -> ReferenceModel.recordedTop1(dir));
        assertEquals(dir.resolve("metrics.json") + ": no numeric test_top1", e.getMessage());
    }
}
