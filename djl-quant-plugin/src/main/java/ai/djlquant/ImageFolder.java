package ai.djlquant;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The images of a calibration folder, as a list that reads each image when it is asked for (a
 * folder may hold far more images than calibration uses, and only the used ones are read). The
 * images are those directly in the folder and those in its immediate sub-folders (one per class,
 * as image classification datasets are laid out), in path order. An image in the {@code k}-th
 * sub-folder (in name order) has label {@code k}; one directly in the folder has none (-1).
 */
final class ImageFolder extends AbstractList<Image> {

    /** The file name endings read as images (what DJL's image factory reads through ImageIO). */
    static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final Path dir;
    private final String role;
    private final List<Path> files;
    private final List<Integer> labels;
    private final List<String> classes;

    private ImageFolder(
            Path dir, String role, List<Path> files, List<Integer> labels, List<String> classes) {
        this.dir = dir;
        this.role = role;
        this.files = List.copyOf(files);
        this.labels = List.copyOf(labels);
        this.classes = List.copyOf(classes);
    }

    /**
     * Lists a folder's images.
     *
     * @param dir the folder
     * @param role what the images are for ({@code calibration}, {@code test}), for messages
     * @return its images, unread
     * @throws IllegalArgumentException naming the folder if it is missing, not a folder, or
     *     holds no image
     */
    static ImageFolder of(Path dir, String role) {
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException("the " + role + " image folder " + dir + " does not exist.");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(
                    "the " + role + " image folder " + dir + " is a file, not a folder.");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        try (Stream<Path> top = Files.list(dir)) {
            List<Path> entries = top.sorted().toList();
            for (Path p : entries) {
                if (isImage(p)) {
                    files.add(p);
                    labels.add(-1);
                }
            }
            for (Path p : entries) {
                if (Files.isDirectory(p)) {
                    int label = classes.size();
                    classes.add(p.getFileName().toString());
                    try (Stream<Path> sub = Files.list(p)) {
                        for (Path f : sub.filter(ImageFolder::isImage).sorted().toList()) {
                            files.add(f);
                            labels.add(label);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "the " + role + " image folder " + dir + " cannot be listed: " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(
                    "the " + role + " image folder "
                            + dir
                            + " holds no images ("
                            + String.join(", ", EXTENSIONS)
                            + ") directly or in its sub-folders.");
        }
        return new ImageFolder(dir, role, files, labels, classes);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /** Reads image {@code index}. */
    @Override
    public Image get(int index) {
        Path p = files.get(index);
        try {
            return ImageFactory.getInstance().fromFile(p);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "the " + role + " image " + p + " cannot be read as an image: " + e.getMessage(), e);
        }
    }

    @Override
    public int size() {
        return files.size();
    }

    /** The label of image {@code index}: its sub-folder's position in name order, or -1. */
    int label(int index) {
        return labels.get(index);
    }

    /** The sub-folders' names in name order: the class of label {@code k} is the {@code k}-th. */
    List<String> classes() {
        return classes;
    }

    /** The folder, for the report. */
    Path dir() {
        return dir;
    }
}
