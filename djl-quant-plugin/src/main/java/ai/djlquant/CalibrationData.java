package ai.djlquant;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.metric.Metrics;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;

import java.io.IOException;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * Where calibration batches come from. Three kinds:
 *
 * <ul>
 *   <li>{@link #fromDataset(Dataset)}: a DJL dataset's batches (its data, not its labels);
 *   <li>{@link #fromBatches(Iterable)}: batches the caller made ({@code NDList}s);
 *   <li>{@link #fromInputs(List, Translator, int)}: raw inputs (images, texts) and the serving
 *       {@link Translator}, so that calibration sees exactly the preprocessing serving uses;
 *       {@link #fromImageFolder(Path, Translator, int)}: the same for the images of a folder.
 * </ul>
 *
 * <p>A sample is one row along axis 0 of the batch's arrays (every array of an input NDList is
 * batch-first), or one raw input. When a source that can be read at any index (a list of inputs,
 * a {@link RandomAccessDataset}) holds more samples than calibration uses, a uniform random
 * subset is used (seeded by the config, kept in the source's order): a folder sorted by class
 * still gives every class its share. Other sources give their first samples; when a batch would
 * take calibration past the asked number, its first rows are used. A source is read twice: once
 * to count its samples before anything in the model changes, once to calibrate; datasets and
 * collections can be, one-shot iterables cannot.
 */
public abstract class CalibrationData {

    CalibrationData() {}

    /**
     * Calibrates with a DJL dataset (its batch size is the calibration batch size).
     *
     * @param dataset the dataset
     * @return the source
     */
    public static CalibrationData fromDataset(Dataset dataset) {
        return new DatasetSource(Objects.requireNonNull(dataset, "dataset"));
    }

    /**
     * Calibrates with ready-made batches. The batches stay the caller's: they are read, not
     * closed.
     *
     * @param batches the batches, each an NDList of batch-first arrays
     * @return the source
     */
    public static CalibrationData fromBatches(Iterable<NDList> batches) {
        return new BatchesSource(Objects.requireNonNull(batches, "batches"));
    }

    /**
     * Calibrates with raw inputs run through the translator's preprocessing ({@code
     * batchProcessInput}, or {@code processInput} one by one for translators without a
     * batchifier).
     *
     * @param inputs the raw inputs
     * @param translator the translator serving uses
     * @param batchSize inputs per batch
     * @param <I> the input type
     * @return the source
     */
    public static <I> CalibrationData fromInputs(
            List<I> inputs, Translator<I, ?> translator, int batchSize) {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(translator, "translator");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        return new InputsSource<>(
                Collections.unmodifiableList(new ArrayList<>(inputs)),
                "inputs",
                translator,
                batchSize);
    }

    /**
     * Calibrates with the images of a folder run through the translator's preprocessing: the
     * images directly in {@code dir} (a flat folder) and those in its immediate sub-folders (one
     * per class; labels are not used), {@code .png}, {@code .jpg}, {@code .jpeg}, {@code .bmp}
     * and {@code .gif}, in path order. The folder is listed now; only the images calibration
     * uses are read (a uniform random subset when the folder holds more), one batch at a time.
     *
     * @param dir the folder
     * @param translator the translator serving uses
     * @param batchSize images per batch
     * @return the source
     * @throws IllegalArgumentException naming the folder if it is missing, not a folder or holds
     *     no image (an unreadable image fails calibration, naming the file)
     */
    public static CalibrationData fromImageFolder(
            Path dir, Translator<Image, ?> translator, int batchSize) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(translator, "translator");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        ImageFolder images = ImageFolder.of(dir, "calibration");
        return new InputsSource<>(images, "images of " + images.dir(), translator, batchSize);
    }

    /**
     * Counts the samples, stopping at {@code limit}.
     *
     * @param manager a manager for anything the count has to load
     * @param limit the most samples needed
     * @return the samples available, at most {@code limit}
     */
    abstract long count(NDManager manager, long limit);

    /**
     * Hands batches to {@code sink} until {@code limit} samples have been given or the source
     * ends.
     *
     * @param model the model (translators are prepared with it)
     * @param manager the manager batches are made in
     * @param limit the number of samples to give
     * @param seed the seed of the random subset (for sources read at any index)
     * @param sink receives each batch and its number of samples
     */
    abstract void forEach(Model model, NDManager manager, long limit, long seed, BatchSink sink);

    /**
     * Describes the source for the report.
     *
     * @return a short description
     */
    abstract String describe();

    /** Receives calibration batches. */
    interface BatchSink {
        void accept(NDList batch, int samples);
    }

    /** The number of samples of a batch: the length of axis 0 of its first array. */
    static int rows(NDList batch, long index) {
        if (batch == null || batch.isEmpty()) {
            throw new IllegalArgumentException(
                    "calibration batch " + index + " is empty (an NDList with no arrays).");
        }
        NDArray first = batch.get(0);
        if (first.getShape().dimension() == 0) {
            throw new IllegalArgumentException(
                    "calibration batch "
                            + index
                            + " starts with a scalar; batches must be batch-first arrays.");
        }
        return Math.toIntExact(first.getShape().get(0));
    }

    /** {@code n} of the indices {@code 0 .. size - 1}, uniformly at random, in increasing order. */
    static List<Long> randomSubset(long size, long n, long seed) {
        List<Long> all = new ArrayList<>();
        for (long i = 0; i < size; i++) {
            all.add(i);
        }
        Collections.shuffle(all, new Random(seed));
        List<Long> some = new ArrayList<>(all.subList(0, (int) n));
        Collections.sort(some);
        return some;
    }

    /** The first {@code n} rows of every array of a batch. */
    static NDList head(NDList batch, int n) {
        NDList out = new NDList(batch.size());
        for (NDArray a : batch) {
            out.add(a.get(new NDIndex("0:" + n)));
        }
        return out;
    }

    private static final class DatasetSource extends CalibrationData {

        private final Dataset dataset;

        DatasetSource(Dataset dataset) {
            this.dataset = dataset;
        }

        @Override
        long count(NDManager manager, long limit) {
            prepare();
            if (dataset instanceof RandomAccessDataset) {
                return Math.min(limit, ((RandomAccessDataset) dataset).size());
            }
            long[] n = {0};
            forEach(null, manager, limit, 0, (b, s) -> n[0] += s);
            return n[0];
        }

        private void prepare() {
            try {
                dataset.prepare();
            } catch (IOException | TranslateException | RuntimeException e) {
                throw new IllegalArgumentException(
                        "the calibration dataset "
                                + dataset.getClass().getSimpleName()
                                + " cannot be prepared: "
                                + e.getMessage(),
                        e);
            }
        }

        @Override
        void forEach(Model model, NDManager manager, long limit, long seed, BatchSink sink) {
            long given = 0;
            long index = 0;
            Dataset source = dataset;
            if (dataset instanceof RandomAccessDataset) {
                RandomAccessDataset r = (RandomAccessDataset) dataset;
                if (r.size() > limit) {
                    source = r.subDataset(randomSubset(r.size(), limit, seed));
                }
            }
            Iterable<Batch> batches;
            try {
                batches = source.getData(manager);
            } catch (IOException | TranslateException e) {
                throw new IllegalArgumentException(
                        "the calibration dataset "
                                + dataset.getClass().getSimpleName()
                                + " cannot be read: "
                                + e.getMessage(),
                        e);
            }
            for (Batch batch : batches) {
                try {
                    NDList data = batch.getData();
                    int rows = rows(data, index++);
                    int take = (int) Math.min(rows, limit - given);
                    sink.accept(take < rows ? head(data, take) : data, take);
                    given += take;
                } finally {
                    batch.close();
                }
                if (given >= limit) {
                    return;
                }
            }
        }

        @Override
        String describe() {
            return "dataset " + dataset.getClass().getSimpleName();
        }
    }

    private static final class BatchesSource extends CalibrationData {

        private final Iterable<NDList> batches;

        BatchesSource(Iterable<NDList> batches) {
            this.batches = batches;
        }

        @Override
        long count(NDManager manager, long limit) {
            long n = 0;
            long index = 0;
            for (NDList b : batches) {
                n += rows(b, index++);
                if (n >= limit) {
                    return limit;
                }
            }
            return n;
        }

        @Override
        void forEach(Model model, NDManager manager, long limit, long seed, BatchSink sink) {
            long given = 0;
            long index = 0;
            for (NDList batch : batches) {
                int rows = rows(batch, index++);
                int take = (int) Math.min(rows, limit - given);
                if (take < rows) {
                    try (NDManager scope = manager.newSubManager()) {
                        batch.tempAttach(scope);
                        NDList part = head(batch, take);
                        sink.accept(part, take);
                    }
                } else {
                    sink.accept(batch, take);
                }
                given += take;
                if (given >= limit) {
                    return;
                }
            }
        }

        @Override
        String describe() {
            return batches instanceof Collection
                    ? ((Collection<?>) batches).size() + " NDList batches"
                    : "NDList batches";
        }
    }

    private static final class InputsSource<I> extends CalibrationData {

        private final List<I> inputs;
        private final String what;
        private final Translator<I, ?> translator;
        private final int batchSize;

        /** Takes the list as it is: an unmodifiable copy, or a folder read on demand. */
        InputsSource(List<I> inputs, String what, Translator<I, ?> translator, int batchSize) {
            this.inputs = inputs;
            this.what = what;
            this.translator = translator;
            this.batchSize = batchSize;
        }

        @Override
        long count(NDManager manager, long limit) {
            return Math.min(limit, inputs.size());
        }

        @Override
        void forEach(Model model, NDManager manager, long limit, long seed, BatchSink sink) {
            List<I> used = inputs;
            if (inputs.size() > limit) {
                // a view: a folder's images are read only as their batch is made
                List<Long> picked = randomSubset(inputs.size(), limit, seed);
                used =
                        new AbstractList<>() {
                            @Override
                            public I get(int k) {
                                return inputs.get(picked.get(k).intValue());
                            }

                            @Override
                            public int size() {
                                return picked.size();
                            }
                        };
            }
            int end = used.size();
            boolean prepared = false;
            for (int from = 0; from < end; ) {
                int to = translator.getBatchifier() == null ? from + 1 : Math.min(end, from + batchSize);
                try (TranslatorContext ctx =
                        new Predictor.PredictorContext(model, manager, new Metrics())) {
                    if (!prepared) {
                        translator.prepare(ctx);
                        prepared = true;
                    }
                    NDList batch =
                            translator.getBatchifier() == null
                                    ? translator.processInput(ctx, used.get(from))
                                    : translator.batchProcessInput(ctx, used.subList(from, to));
                    sink.accept(batch, to - from);
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalArgumentException(
                            "the translator "
                                    + translator.getClass().getSimpleName()
                                    + " failed on calibration inputs "
                                    + from
                                    + " to "
                                    + (to - 1)
                                    + ": "
                                    + e.getMessage(),
                            e);
                }
                from = to;
            }
        }

        @Override
        String describe() {
            return inputs.size()
                    + " "
                    + what
                    + " through "
                    + translator.getClass().getSimpleName()
                    + " (batches of "
                    + batchSize
                    + ")";
        }
    }
}
