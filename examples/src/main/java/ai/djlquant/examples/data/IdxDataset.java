package ai.djlquant.examples.data;

import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Fashion-MNIST read from its IDX originals (a DJL {@link RandomAccessDataset}).
 *
 * <p>The directory holds the files under their published names, gzip-compressed or not: {@code
 * train-images-idx3-ubyte[.gz]} / {@code train-labels-idx1-ubyte[.gz]} for the training split and
 * {@code t10k-images-idx3-ubyte[.gz]} / {@code t10k-labels-idx1-ubyte[.gz]} for the test split.
 * {@link #prepare()} reads both files into memory (47 MB for the training split) and checks them;
 * every problem is an {@link IOException} naming the file.
 *
 * <p>A record's data is the image after {@link FashionMnist#newPipeline()} (unless the builder set
 * another pipeline): float32 (1, 28, 28); its label is the class index as a float32 scalar, as
 * DJL's own image datasets give it.
 *
 * <pre>
 * IdxDataset test = IdxDataset.builder()
 *         .setDirectory(Paths.get("calibration-data/test"))
 *         .optUsage(Dataset.Usage.TEST)
 *         .setSampling(32, false)
 *         .build();
 * test.prepare();
 * </pre>
 */
public final class IdxDataset extends RandomAccessDataset {

    private final Path directory;
    private final Dataset.Usage usage;

    private IdxFile.Images images;
    private byte[] labels;

    private IdxDataset(Builder builder) {
        super(builder);
        this.directory = builder.directory;
        this.usage = builder.usage;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and checks the files (only the first call does any work).
     *
     * @throws IOException if a file is missing or malformed; the message names it
     */
    @Override
    public void prepare() throws IOException {
        prepare(null);
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Progress progress) throws IOException {
        if (images != null) {
            return;
        }
        if (!Files.isDirectory(directory)) {
            throw new NoSuchFileException(
                    directory.toString(), null, "Fashion-MNIST data directory not found");
        }
        String prefix = usage == Dataset.Usage.TRAIN ? "train" : "t10k";
        Path imagesFile = find(prefix + "-images-idx3-ubyte");
        Path labelsFile = find(prefix + "-labels-idx1-ubyte");
        IdxFile.Images readImages = IdxFile.readImages(imagesFile);
        byte[] readLabels = IdxFile.readLabels(labelsFile);
        if (readImages.getCount() != readLabels.length) {
            throw new IOException(
                    imagesFile
                            + " holds "
                            + readImages.getCount()
                            + " images but "
                            + labelsFile
                            + " holds "
                            + readLabels.length
                            + " labels");
        }
        if (readImages.getRows() != FashionMnist.IMAGE_SIZE
                || readImages.getCols() != FashionMnist.IMAGE_SIZE) {
            throw new IOException(
                    imagesFile
                            + " holds "
                            + readImages.getRows()
                            + "x"
                            + readImages.getCols()
                            + " images, expected 28x28");
        }
        for (int i = 0; i < readLabels.length; i++) {
            int label = readLabels[i] & 0xFF;
            if (label >= FashionMnist.NUM_CLASSES) {
                throw new IOException(
                        labelsFile + ": label " + label + " at index " + i + " is outside 0..9");
            }
        }
        images = readImages;
        labels = readLabels;
    }

    private Path find(String name) throws IOException {
        Path gz = directory.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path raw = directory.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        throw new NoSuchFileException(
                gz.toString(), null, "IDX file not found (nor uncompressed " + raw + ")");
    }

    /** {@inheritDoc} */
    @Override
    public Record get(NDManager manager, long index) throws IOException {
        int i = checkIndex(index);
        NDArray pixels = manager.create(ByteBuffer.wrap(pixelsOf(i)), imageShape(), DataType.UINT8);
        NDList data = pipeline.transform(new NDList(pixels));
        NDList label = new NDList(manager.create((float) getLabel(i)));
        return new Record(data, label);
    }

    /** {@inheritDoc} */
    @Override
    protected long availableSize() {
        return loaded().getCount();
    }

    /**
     * Returns the directory the files are read from.
     *
     * @return the directory
     */
    public Path getDirectory() {
        return directory;
    }

    /**
     * Returns the class index (0..9) of an image.
     *
     * @param index the image index in the file
     * @return the label
     */
    public int getLabel(int index) {
        loaded();
        return labels[checkIndex(index)] & 0xFF;
    }

    /**
     * Returns the raw pixels of one image (28 x 28 bytes, row major, 0 = background).
     *
     * @param index the image index in the file
     * @return a copy of the pixels
     */
    public byte[] pixelsOf(int index) {
        IdxFile.Images all = loaded();
        int size = all.getRows() * all.getCols();
        byte[] copy = new byte[size];
        System.arraycopy(all.getPixels(), checkIndex(index) * size, copy, 0, size);
        return copy;
    }

    /**
     * Returns one image as a DJL {@link Image}: what a user would hand to a predictor.
     *
     * @param index the image index in the file
     * @return the image (8-bit grayscale, 28 x 28)
     */
    public Image getImage(int index) {
        IdxFile.Images all = loaded();
        int size = all.getRows() * all.getCols();
        return FashionMnist.toImage(
                all.getPixels(), checkIndex(index) * size, all.getCols(), all.getRows());
    }

    /**
     * Returns a range of images as one uint8 array of shape (count, 28, 28, 1), ready for {@link
     * FashionMnist#newPipeline()} to preprocess in one batch.
     *
     * @param manager the manager that owns the result
     * @param from the first image index
     * @param count how many images
     * @return the raw pixels
     */
    public NDArray rawImages(NDManager manager, int from, int count) {
        IdxFile.Images all = loaded();
        if (from < 0 || count < 0 || from + count > all.getCount()) {
            throw new IndexOutOfBoundsException(
                    "images " + from + ".." + (from + count) + " of " + all.getCount());
        }
        int size = all.getRows() * all.getCols();
        ByteBuffer buffer = ByteBuffer.wrap(all.getPixels(), from * size, count * size).slice();
        Shape shape = new Shape(count, all.getRows(), all.getCols(), 1);
        return manager.create(buffer, shape, DataType.UINT8);
    }

    private Shape imageShape() {
        return new Shape(images.getRows(), images.getCols(), 1);
    }

    private int checkIndex(long index) {
        if (index < 0 || index >= loaded().getCount()) {
            throw new IndexOutOfBoundsException(
                    "image " + index + " of " + images.getCount() + " in " + directory);
        }
        return (int) index;
    }

    private IdxFile.Images loaded() {
        if (images == null) {
            throw new IllegalStateException(
                    "IdxDataset for " + directory + " is not prepared: call prepare() first");
        }
        return images;
    }

    /** Builds an {@link IdxDataset}. */
    public static final class Builder extends RandomAccessDataset.BaseBuilder<Builder> {

        private Path directory;
        private Dataset.Usage usage = Dataset.Usage.TEST;

        Builder() {}

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the directory that holds the IDX files.
         *
         * @param directory the directory
         * @return this builder
         */
        public Builder setDirectory(Path directory) {
            this.directory = directory;
            return this;
        }

        /**
         * Chooses the split: {@code TRAIN} (train-*) or {@code TEST} (t10k-*, the default).
         *
         * @param usage the split
         * @return this builder
         */
        public Builder optUsage(Dataset.Usage usage) {
            if (usage != Dataset.Usage.TRAIN && usage != Dataset.Usage.TEST) {
                throw new IllegalArgumentException(
                        "Fashion-MNIST has a TRAIN and a TEST split, not " + usage);
            }
            this.usage = usage;
            return this;
        }

        /**
         * Builds the dataset (nothing is read until {@code prepare()}).
         *
         * @return the dataset
         */
        public IdxDataset build() {
            if (directory == null) {
                throw new IllegalArgumentException("the IDX directory must be set");
            }
            if (pipeline == null) {
                pipeline = FashionMnist.newPipeline();
            }
            if (sampler == null) {
                setSampling(32, false);
            }
            return new IdxDataset(this);
        }
    }
}
