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
 * as image classification datasets are laid out), in path order; labels are not needed.
 */
final class ImageFolder extends AbstractList<Image> {

    /** The file name endings read as images (what DJL's image factory reads through ImageIO). */
    static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final Path dir;
    private final List<Path> files;

    private ImageFolder(Path dir, List<Path> files) {
        this.dir = dir;
        this.files = List.copyOf(files);
    }

    /**
     * Lists a folder's images.
     *
     * @param dir the folder
     * @return its images, unread
     * @throws IllegalArgumentException naming the folder if it is missing, not a folder, or
     *     holds no image
     */
    static ImageFolder of(Path dir) {
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException("the calibration image folder " + dir + " does not exist.");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(
                    "the calibration image folder " + dir + " is a file, not a folder.");
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> top = Files.list(dir)) {
            for (Path p : top.sorted().toList()) {
                if (Files.isDirectory(p)) {
                    try (Stream<Path> sub = Files.list(p)) {
                        sub.filter(ImageFolder::isImage).sorted().forEach(files::add);
                    }
                } else if (isImage(p)) {
                    files.add(p);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "the calibration image folder " + dir + " cannot be listed: " + e.getMessage(), e);
        }
        files.sort(null);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(
                    "the calibration image folder "
                            + dir
                            + " holds no images ("
                            + String.join(", ", EXTENSIONS)
                            + ") directly or in its sub-folders.");
        }
        return new ImageFolder(dir, files);
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
                    "the calibration image " + p + " cannot be read as an image: " + e.getMessage(), e);
        }
    }

    @Override
    public int size() {
        return files.size();
    }

    /** The folder, for the report. */
    Path dir() {
        return dir;
    }
}
