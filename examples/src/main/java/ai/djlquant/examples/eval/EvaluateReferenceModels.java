package ai.djlquant.examples.eval;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The main job (for now): loads the committed reference models through {@code Criteria}, and prints
 * their top-1 accuracy on the committed test split and their latency, one table row per model.
 *
 * <p>Usage: {@code EvaluateReferenceModels <models-dir> <test-idx-dir> [--json <file>]}. Exits with
 * status 1 if a model's accuracy differs from its {@code metrics.json} by more than 0.1 points.
 */
public final class EvaluateReferenceModels {

    /** Largest accepted difference between measured and recorded top-1, as a fraction. */
    public static final double TOLERANCE = 0.001;

    private EvaluateReferenceModels() {}

    /**
     * Runs the program.
     *
     * @param args the models directory, the test split directory, optionally {@code --json FILE}
     * @throws Exception if a model or the data cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println(
                    "usage: EvaluateReferenceModels <models-dir> <test-idx-dir> [--json <file>]");
            System.exit(2);
        }
        Path modelsDir = Paths.get(args[0]);
        Path testDir = Paths.get(args[1]);
        Path jsonFile = args.length >= 4 && "--json".equals(args[2]) ? Paths.get(args[3]) : null;

        IdxDataset test =
                IdxDataset.builder().setDirectory(testDir).optUsage(Dataset.Usage.TEST).build();
        ModelEvaluator evaluator =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .build();
        System.out.printf(
                "Fashion-MNIST test split: %d images from %s%n", test.size(), testDir.normalize());
        System.out.println(ModelEvaluator.threadInfo());
        System.out.println();
        System.out.println(EvaluationResult.tableHeader(evaluator.getBatchSizes()));

        List<EvaluationResult> results = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (ReferenceModel m : ReferenceModel.values()) {
            Path dir = modelsDir.resolve(m.modelName());
            EvaluationResult result;
            try (ZooModel<Image, Classifications> model = m.load(modelsDir)) {
                result = evaluator.evaluate(m.modelName() + " fp32", model);
            }
            results.add(result);
            System.out.println(result.toTableRow());
            double recorded = ReferenceModel.recordedTop1(dir);
            if (Math.abs(result.getTop1() - recorded) > TOLERANCE) {
                problems.add(
                        String.format(
                                Locale.ROOT,
                                "%s: measured top-1 %.4f but %s records %.4f",
                                m.modelName(),
                                result.getTop1(),
                                dir.resolve("metrics.json"),
                                recorded));
            }
        }
        System.out.println();
        System.out.println(
                "top1: fraction of the test images whose best class is right."
                        + " Latency: median / p90 milliseconds per call (one batch).");
        System.out.println(
                "predictor = Predictor.predict / batchPredict on DJL Images, translator included"
                        + " (what users see);");
        System.out.println(
                "forward   = Block.forward on an already preprocessed batch"
                        + " (what quantization changes).");
        if (jsonFile != null) {
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < results.size(); i++) {
                sb.append(results.get(i).toJson()).append(i + 1 < results.size() ? ",\n" : "\n");
            }
            Files.writeString(jsonFile, sb.append("]\n").toString(), StandardCharsets.UTF_8);
            System.out.println("results written to " + jsonFile);
        }
        if (!problems.isEmpty()) {
            problems.forEach(System.err::println);
            System.exit(1);
        }
    }
}
