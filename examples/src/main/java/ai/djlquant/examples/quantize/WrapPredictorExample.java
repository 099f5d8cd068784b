package ai.djlquant.examples.quantize;

import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.Translator;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.Quantizer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.NormalizeGrayscale;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The code a DJL user already has (Criteria, ZooModel, Predictor with an {@link
 * ImageClassificationTranslator}) and the two lines that quantize it. The predictor made before
 * quantization keeps working and runs the int8 model afterwards.
 *
 * <p>Usage (from the repository root): {@code WrapPredictorExample [model-dir] [calibration-dir]
 * [image]}, by default {@code examples/models/cnn}, {@code calibration-data/calibration} and its
 * first ankle boot. Maven: {@code mvn -B -q verify -DskipTests -Prun
 * -Drun.main=ai.djlquant.examples.quantize.WrapPredictorExample}.
 */
public final class WrapPredictorExample {

    private WrapPredictorExample() {}

    /**
     * Runs the example.
     *
     * @param args the model directory, the calibration folder and an image (all optional)
     * @throws Exception if the model or the images cannot be read
     */
    public static void main(String[] args) throws Exception {
        Path modelDir = Paths.get(args.length > 0 ? args[0] : "examples/models/cnn");
        Path calibrationDir = Paths.get(args.length > 1 ? args[1] : "calibration-data/calibration");
        Path imageFile = args.length > 2 ? Paths.get(args[2]) : firstAnkleBoot(calibrationDir);
        for (String line : run(modelDir, calibrationDir, imageFile)) {
            System.out.println(line);
        }
    }

    /** The first image of the ankle-boot class folder. */
    static Path firstAnkleBoot(Path calibrationDir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s =
                java.nio.file.Files.list(
                        calibrationDir.resolve(FashionMnist.FOLDER_NAMES.get(9)))) {
            return s.sorted()
                    .findFirst()
                    .orElseThrow(
                            () -> new java.io.IOException(calibrationDir + ": no ankle boots"));
        }
    }

    /**
     * Runs the example and returns what it prints.
     *
     * @param modelDir the float model directory
     * @param calibrationDir the calibration images
     * @param imageFile the image to classify
     * @return the lines: the fp32 prediction, the report, the int8 prediction
     * @throws Exception if the model or the images cannot be read
     */
    static List<String> run(Path modelDir, Path calibrationDir, Path imageFile) throws Exception {
        // ---- what the user already has -----------------------------------------------------
        Translator<Image, Classifications> translator =
                ImageClassificationTranslator.builder()
                        .optFlag(Image.Flag.GRAYSCALE)
                        .addTransform(new ToTensor())
                        .addTransform(new NormalizeGrayscale(FashionMnist.MEAN, FashionMnist.STD))
                        .optSynset(FashionMnist.CLASS_NAMES)
                        .optApplySoftmax(true)
                        .build();
        Criteria<Image, Classifications> criteria =
                Criteria.builder()
                        .setTypes(Image.class, Classifications.class)
                        .optModelPath(modelDir)
                        .optTranslator(translator)
                        .build();
        try (ZooModel<Image, Classifications> model = criteria.loadModel();
                Predictor<Image, Classifications> predictor = model.newPredictor()) {
            Image image = ImageFactory.getInstance().fromFile(imageFile);
            String before = "fp32: " + predictor.predict(image).best();

            // ---- the two lines that quantize it ----------------------------------------------
            List<Image> calibration = CalibrationImages.load(calibrationDir);
            String report =
                    Quantizer.quantize(
                                    model,
                                    CalibrationData.fromInputs(calibration, translator, 32),
                                    QuantizationConfig.defaults())
                            .toTable();

            // ---- the same predictor, now running int8 blocks --------------------------------
            String after = "int8: " + predictor.predict(image).best();
            return List.of(before, report, after);
        }
    }
}
