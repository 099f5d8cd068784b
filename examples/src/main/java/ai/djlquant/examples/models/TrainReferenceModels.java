// Over 400 lines: one program for training every reference model (argument parsing, the
// training loop with augmentation, evaluation, and the model directory with its metrics file).
package ai.djlquant.examples.models;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.translate.Pipeline;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import ai.djlquant.examples.FileTrees;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.FashionMnistTranslatorFactory;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.EvaluationResult;
import ai.djlquant.examples.eval.ModelEvaluator;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Trains the reference models on the full Fashion-MNIST training split with DJL on the PyTorch
 * engine, saves each under {@code <models-dir>/<name>/} ({@code <name>-0000.params}, {@code
 * serving.properties}, {@code metrics.json}) and measures its test accuracy with the evaluation
 * harness after loading it back through {@code Criteria}.
 *
 * <p>Usage: {@code TrainReferenceModels <idx-dir> <models-dir> [--models cnn,resnet,mlp,mobilenet,vit] [--seed
 * 42] [--epochs N]}. The IDX directory holds the four original files (Debian: {@code apt-get
 * download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb x}, then {@code
 * x/usr/share/datasets/fashion-mnist}).
 *
 * <p>Recipe: Adam, batch 128, learning rate 1e-3 decayed along a cosine to 1e-5 over all steps;
 * each epoch visits the training images in an order drawn from {@code Random(seed + epoch)}; every
 * model sees each image flipped left-right with probability 1/2, and the convolutional ones also
 * shifted by up to 2 pixels (black padding, random crop: {@link ReferenceModel#usesRandomCrop()}).
 * PyTorch's generator is seeded with {@code seed} before the parameters are initialised.
 */
public final class TrainReferenceModels {

    private static final int BATCH = 128;
    private static final float BASE_LR = 1e-3f;
    private static final float FINAL_LR = 1e-5f;
    private static final int CROP_PAD = 2;

    private TrainReferenceModels() {}

    /**
     * Runs the program.
     *
     * @param args see the class description
     * @throws Exception if data cannot be read, training fails or a model cannot be saved
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println(
                    "usage: TrainReferenceModels <idx-dir> <models-dir>"
                            + " [--models cnn,resnet,mlp,mobilenet,vit] [--seed 42] [--epochs N]");
            System.exit(2);
        }
        Path idxDir = Paths.get(args[0]);
        Path modelsDir = Paths.get(args[1]);
        List<ReferenceModel> models = List.of(ReferenceModel.values());
        long seed = 42;
        int epochsOverride = 0;
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--models":
                    models = new ArrayList<>();
                    for (String name : args[i + 1].split(",")) {
                        models.add(ReferenceModel.of(name.trim()));
                    }
                    break;
                case "--seed":
                    seed = Long.parseLong(args[i + 1]);
                    break;
                case "--epochs":
                    epochsOverride = Integer.parseInt(args[i + 1]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        IdxDataset train =
                IdxDataset.builder().setDirectory(idxDir).optUsage(Dataset.Usage.TRAIN).build();
        IdxDataset test =
                IdxDataset.builder().setDirectory(idxDir).optUsage(Dataset.Usage.TEST).build();
        train.prepare();
        test.prepare();
        System.out.println(ModelEvaluator.threadInfo());
        long total = System.nanoTime();
        for (ReferenceModel m : models) {
            int epochs = epochsOverride > 0 ? epochsOverride : m.getEpochs();
            train(m, epochs, seed, train, test, modelsDir);
        }
        System.out.printf(
                Locale.ROOT, "total wall time %.1f s%n", (System.nanoTime() - total) / 1e9);
    }

    private static void train(
            ReferenceModel m,
            int epochs,
            long seed,
            IdxDataset train,
            IdxDataset test,
            Path modelsDir)
            throws IOException,
                    TranslateException,
                    MalformedModelException,
                    ModelNotFoundException {
        String name = m.modelName();
        boolean crop = m.usesRandomCrop();
        Engine.getInstance().setRandomSeed((int) seed);
        long start = System.nanoTime();
        int trainSize = (int) train.size();
        int steps = (trainSize + BATCH - 1) / BATCH;
        double lastLoss = 0;
        double lastAccuracy = 0;
        try (Model model = Model.newInstance(name, Device.cpu(), "PyTorch")) {
            model.setBlock(m.newBlock());
            CosineTracker lr =
                    CosineTracker.builder()
                            .setBaseValue(BASE_LR)
                            .optFinalValue(FINAL_LR)
                            .setMaxUpdates(epochs * steps)
                            .build();
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(Adam.builder().optLearningRateTracker(lr).build())
                            .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(
                        new Shape(1, 1, FashionMnist.IMAGE_SIZE, FashionMnist.IMAGE_SIZE));
                Pipeline pipeline = FashionMnist.newPipeline();
                NDArray trainX =
                        pipeline.transform(new NDList(train.rawImages(data, 0, trainSize)))
                                .singletonOrThrow();
                NDArray trainY = data.create(labels(train));
                int testSize = (int) test.size();
                NDArray testX =
                        pipeline.transform(new NDList(test.rawImages(data, 0, testSize)))
                                .singletonOrThrow();
                int[] testLabels = new int[testSize];
                for (int i = 0; i < testSize; i++) {
                    testLabels[i] = test.getLabel(i);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%s: %d parameters, %d epochs of %d steps (batch %d)%n",
                        name,
                        countParameters(model),
                        epochs,
                        steps,
                        BATCH);
                for (int epoch = 0; epoch < epochs; epoch++) {
                    long epochStart = System.nanoTime();
                    int[] order = permutation(trainSize, new Random(seed + epoch));
                    Random augment = new Random(seed * 31 + epoch);
                    double lossSum = 0;
                    long hits = 0;
                    for (int s = 0; s < steps; s++) {
                        int from = s * BATCH;
                        int count = Math.min(BATCH, trainSize - from);
                        try (NDManager batch = data.newSubManager()) {
                            int[] slice = new int[count];
                            System.arraycopy(order, from, slice, 0, count);
                            NDArray index = batch.create(slice);
                            NDArray x = trainX.get(index);
                            NDArray y = trainY.get(index);
                            x.attach(batch);
                            y.attach(batch);
                            x = augment(x, augment, crop);
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList pred = trainer.forward(new NDList(x));
                                NDArray loss = trainer.getLoss().evaluate(new NDList(y), pred);
                                gc.backward(loss);
                                lossSum += loss.getFloat() * count;
                                hits +=
                                        pred.singletonOrThrow()
                                                .argMax(1)
                                                .toType(y.getDataType(), false)
                                                .eq(y)
                                                .sum()
                                                .getLong();
                            }
                            trainer.step();
                        }
                    }
                    lastLoss = lossSum / trainSize;
                    lastAccuracy = (double) hits / trainSize;
                    double testAccuracy = accuracy(trainer, testX, testLabels);
                    System.out.printf(
                            Locale.ROOT,
                            "%s epoch %2d/%d: loss %.4f  train acc %.4f  test acc %.4f"
                                    + "  lr %.2e  %.1f s%n",
                            name,
                            epoch + 1,
                            epochs,
                            lastLoss,
                            lastAccuracy,
                            testAccuracy,
                            lr.getNewValue((epoch + 1) * steps),
                            (System.nanoTime() - epochStart) / 1e9);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            save(m, model, epochs, seed, seconds, lastLoss, lastAccuracy, test, modelsDir);
        }
    }

    /** Flips each image left-right with probability 1/2 and, if asked, shifts it randomly. */
    private static NDArray augment(NDArray x, Random random, boolean crop) {
        NDManager manager = x.getManager();
        int n = (int) x.getShape().get(0);
        boolean[] flip = new boolean[n];
        for (int i = 0; i < n; i++) {
            flip[i] = random.nextBoolean();
        }
        NDArray mask = manager.create(flip).reshape(n, 1, 1, 1).broadcast(x.getShape());
        NDArray out = NDArrays.where(mask, x.flip(3), x);
        if (!crop) {
            return out;
        }
        int size = FashionMnist.IMAGE_SIZE;
        // zero in normalised units is the mean; pad with the value of a black pixel instead
        float black = -FashionMnist.MEAN / FashionMnist.STD;
        NDArray padded =
                manager.full(new Shape(n, 1, size + 2 * CROP_PAD, size + 2 * CROP_PAD), black);
        padded.set(
                new NDIndex(
                        ":, :, {}:{}, {}:{}", CROP_PAD, CROP_PAD + size, CROP_PAD, CROP_PAD + size),
                out);
        NDList crops = new NDList(n);
        for (int i = 0; i < n; i++) {
            int dy = random.nextInt(2 * CROP_PAD + 1);
            int dx = random.nextInt(2 * CROP_PAD + 1);
            crops.add(
                    padded.get(
                            new NDIndex(
                                    "{}:{}, :, {}:{}, {}:{}",
                                    i,
                                    i + 1,
                                    dy,
                                    dy + size,
                                    dx,
                                    dx + size)));
        }
        return NDArrays.concat(crops, 0);
    }

    private static double accuracy(Trainer trainer, NDArray x, int[] labels) {
        long hits = 0;
        int n = labels.length;
        for (int from = 0; from < n; from += 1000) {
            int to = Math.min(n, from + 1000);
            try (NDManager scope = x.getManager().newSubManager()) {
                NDArray batch = x.get(new NDIndex("{}:{}", from, to));
                batch.attach(scope);
                long[] predicted =
                        trainer.evaluate(new NDList(batch))
                                .singletonOrThrow()
                                .argMax(1)
                                .toLongArray();
                for (int i = 0; i < predicted.length; i++) {
                    if (predicted[i] == labels[from + i]) {
                        hits++;
                    }
                }
            }
        }
        return (double) hits / n;
    }

    private static void save(
            ReferenceModel m,
            Model model,
            int epochs,
            long seed,
            double seconds,
            double lastLoss,
            double lastAccuracy,
            IdxDataset test,
            Path modelsDir)
            throws IOException,
                    TranslateException,
                    MalformedModelException,
                    ModelNotFoundException {
        String name = m.modelName();
        Files.createDirectories(modelsDir);
        Path target = modelsDir.resolve(name);
        Path tmp = Files.createTempDirectory(modelsDir, "." + name + "-");
        try {
            model.setProperty("TrainedEpochs", Integer.toString(epochs));
            model.save(tmp, name);
            String properties =
                    "# DJL model directory: load with Criteria.builder().optModelPath(<this dir>)\n"
                            + "engine=PyTorch\n"
                            + "blockFactory="
                            + m.getBlockFactory().getName()
                            + "\n"
                            + "translatorFactory="
                            + FashionMnistTranslatorFactory.class.getName()
                            + "\n";
            Files.writeString(
                    tmp.resolve("serving.properties"), properties, StandardCharsets.UTF_8);

            // measure what a user gets: the saved directory loaded back through Criteria
            Criteria<Image, Classifications> criteria =
                    Criteria.builder()
                            .setTypes(Image.class, Classifications.class)
                            .optModelPath(tmp)
                            .optModelName(name)
                            .optTranslatorFactory(new FashionMnistTranslatorFactory())
                            .build();
            EvaluationResult result;
            long parameters;
            try (ZooModel<Image, Classifications> loaded = criteria.loadModel()) {
                ModelEvaluator evaluator =
                        ModelEvaluator.builder()
                                .setTestSet(test)
                                .setTranslator(FashionMnist.newTranslator())
                                .optMeasureLatency(false)
                                .build();
                result = evaluator.evaluate(name, loaded);
                parameters = countParameters(loaded);
            }
            Path params = tmp.resolve(name + "-0000.params");
            JsonObject json = new JsonObject();
            json.addProperty("model", name);
            json.addProperty("test_top1", result.getTop1());
            json.addProperty("test_samples", result.getSamples());
            json.addProperty("test_correct", result.getCorrect());
            json.addProperty("target_top1", m.getTargetTop1());
            json.addProperty("block_factory", m.getBlockFactory().getName());
            json.addProperty("parameters", parameters);
            json.addProperty("params_file_bytes", Files.size(params));
            JsonObject training = new JsonObject();
            training.addProperty("train_samples", 60000);
            training.addProperty("epochs", epochs);
            training.addProperty("batch_size", BATCH);
            training.addProperty("optimizer", "Adam, lr 1e-3 cosine to 1e-5 over all steps");
            training.addProperty(
                    "augmentation",
                    m.usesRandomCrop()
                            ? "random horizontal flip, random crop with 2-pixel padding"
                            : "random horizontal flip");
            training.addProperty("seed", seed);
            training.addProperty("final_train_loss", round(lastLoss));
            training.addProperty("final_train_accuracy", round(lastAccuracy));
            training.addProperty("wall_seconds", Math.round(seconds));
            training.addProperty("torch_threads", result.getTorchThreads());
            json.add("training", training);
            json.addProperty("djl_version", Engine.getDjlVersion());
            json.addProperty("pytorch_version", Engine.getEngine("PyTorch").getVersion());
            json.addProperty("program", TrainReferenceModels.class.getName());
            String text = new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n";
            Files.writeString(tmp.resolve("metrics.json"), text, StandardCharsets.UTF_8);

            FileTrees.replace(tmp, target);
            System.out.printf(
                    Locale.ROOT,
                    "%s: saved to %s, test top-1 %.4f (target %.2f) on %d images,"
                            + " %d parameters, %.1f s%n",
                    name,
                    target,
                    result.getTop1(),
                    m.getTargetTop1(),
                    result.getSamples(),
                    parameters,
                    seconds);
        } finally {
            FileTrees.deleteTree(tmp);
        }
    }

    private static double round(double value) {
        return Math.round(value * 1e4) / 1e4;
    }

    private static long countParameters(Model model) {
        long count = 0;
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            count += p.getValue().getArray().size();
        }
        return count;
    }

    private static float[] labels(IdxDataset set) {
        float[] labels = new float[(int) set.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = set.getLabel(i);
        }
        return labels;
    }

    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
