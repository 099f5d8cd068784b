package ai.djlquant.examples.data;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A folder of labelled images, one sub-folder per class, as a DJL {@link RandomAccessDataset}.
 *
 * <p>The layout is DJL's {@code ImageFolder} layout ({@code root/<class>/<image>.png}; the sorted
 * folder names are the labels 0, 1, ...), read differently in two ways that matter here: the files
 * of each class are listed in name order, so an index means the same image on every machine (DJL's
 * {@code ImageFolder} lists them in file-system order), and images are read as grayscale. Missing
 * folders, empty classes and unreadable or wrongly sized images are {@link IOException}s that name
 * the path.
 *
 * <p>A record's data is the image after {@link FashionMnist#newPipeline()} (unless the builder set
 * another pipeline), its label the class index as a float32 scalar.
 */
public final class ImageFolderDataset extends RandomAccessDataset {

    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp");

    private final Path root;
    private final Image.Flag flag;
    private final int expectedWidth;
    private final int expectedHeight;

    private List<String> classes;
    private List<Path> files;
    private int[] labels;

    private ImageFolderDataset(Builder builder) {
        super(builder);
        this.root = builder.root;
        this.flag = builder.flag;
        this.expectedWidth = builder.width;
        this.expectedHeight = builder.height;
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
        if (files != null) {
            return;
        }
        if (!Files.exists(root)) {
            throw new NoSuchFileException(root.toString(), null, "image folder not found");
        }
        if (!Files.isDirectory(root)) {
            throw new NotDirectoryException(root.toString());
        }
        List<Path> classFolders = list(root, Files::isDirectory);
        if (classFolders.isEmpty()) {
            throw new IOException(root + ": no class folders in the image folder");
        }
        List<String> names = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        for (int label = 0; label < classFolders.size(); label++) {
            Path folder = classFolders.get(label);
            List<Path> images = list(folder, ImageFolderDataset::isImageFile);
            if (images.isEmpty()) {
                throw new IOException(folder + ": class folder holds no images");
            }
            names.add(folder.getFileName().toString());
            for (Path image : images) {
                paths.add(image);
                labelList.add(label);
            }
        }
        classes = Collections.unmodifiableList(names);
        labels = labelList.stream().mapToInt(Integer::intValue).toArray();
        files = Collections.unmodifiableList(paths);
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> filter)
            throws IOException {
        try (Stream<Path> stream = Files.list(dir)) {
            return stream.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(filter)
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private static boolean isImageFile(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(path) && EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** {@inheritDoc} */
    @Override
    public Record get(NDManager manager, long index) throws IOException {
        int i = checkIndex(index);
        NDArray pixels = getImage(i).toNDArray(manager, flag);
        NDList data = pipeline.transform(new NDList(pixels));
        return new Record(data, new NDList(manager.create((float) labels[i])));
    }

    /** {@inheritDoc} */
    @Override
    protected long availableSize() {
        return prepared().size();
    }

    /**
     * Reads one image as a DJL {@link Image}.
     *
     * @param index the image index (classes in folder order, files in name order)
     * @return the image
     * @throws IOException if the file cannot be read as an image or has the wrong size
     */
    public Image getImage(int index) throws IOException {
        Path file = getPath(index);
        Image image;
        try {
            image = ImageFactory.getInstance().fromFile(file);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": not a readable image (" + e.getMessage() + ")", e);
        }
        if (expectedWidth > 0
                && (image.getWidth() != expectedWidth || image.getHeight() != expectedHeight)) {
            throw new IOException(
                    file
                            + ": image is "
                            + image.getWidth()
                            + "x"
                            + image.getHeight()
                            + ", expected "
                            + expectedWidth
                            + "x"
                            + expectedHeight);
        }
        return image;
    }

    /**
     * Returns the file of one image.
     *
     * @param index the image index
     * @return the path of the image file
     */
    public Path getPath(int index) {
        return prepared().get(checkIndex(index));
    }

    /**
     * Returns the class index of one image.
     *
     * @param index the image index
     * @return the label (position of its folder among the sorted class folders)
     */
    public int getLabel(int index) {
        prepared();
        return labels[checkIndex(index)];
    }

    /**
     * Returns the class folder names in label order.
     *
     * @return the class folder names
     */
    public List<String> getClasses() {
        prepared();
        return classes;
    }

    private int checkIndex(long index) {
        if (index < 0 || index >= prepared().size()) {
            throw new IndexOutOfBoundsException(
                    "image " + index + " of " + files.size() + " in " + root);
        }
        return (int) index;
    }

    private List<Path> prepared() {
        if (files == null) {
            throw new IllegalStateException(
                    "ImageFolderDataset for " + root + " is not prepared: call prepare() first");
        }
        return files;
    }

    /** Builds an {@link ImageFolderDataset}. */
    public static final class Builder extends RandomAccessDataset.BaseBuilder<Builder> {

        private Path root;
        private Image.Flag flag = Image.Flag.GRAYSCALE;
        private int width = FashionMnist.IMAGE_SIZE;
        private int height = FashionMnist.IMAGE_SIZE;

        Builder() {}

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the root folder (the one that holds the class folders).
         *
         * @param root the root folder
         * @return this builder
         */
        public Builder setRoot(Path root) {
            this.root = root;
            return this;
        }

        /**
         * Sets how images are read (default {@link Image.Flag#GRAYSCALE}).
         *
         * @param flag the colour mode
         * @return this builder
         */
        public Builder optFlag(Image.Flag flag) {
            this.flag = flag;
            return this;
        }

        /**
         * Sets the size every image must have (default 28 x 28); 0 accepts any size.
         *
         * @param width the width in pixels
         * @param height the height in pixels
         * @return this builder
         */
        public Builder optImageSize(int width, int height) {
            this.width = width;
            this.height = height;
            return this;
        }

        /**
         * Builds the dataset (nothing is read until {@code prepare()}).
         *
         * @return the dataset
         */
        public ImageFolderDataset build() {
            if (root == null) {
                throw new IllegalArgumentException("the image folder root must be set");
            }
            if (pipeline == null) {
                pipeline = FashionMnist.newPipeline();
            }
            if (sampler == null) {
                setSampling(32, false);
            }
            return new ImageFolderDataset(this);
        }
    }
}
