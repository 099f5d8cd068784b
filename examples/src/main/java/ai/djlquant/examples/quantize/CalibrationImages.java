package ai.djlquant.examples.quantize;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djlquant.examples.data.ImageFolderDataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The calibration images a user would hand to the Predictor, from a folder: either a labelled
 * folder (one sub-folder per class, as the committed {@code calibration-data/calibration}), taken
 * class by class in turn so that any count is balanced, or a flat folder of images, taken in name
 * order. Labels are not used: calibration only needs inputs.
 */
public final class CalibrationImages {

    private CalibrationImages() {}

    /**
     * Reads every image of a labelled image folder (the calibration subset is class-sorted; the
     * quantizer draws a uniform random subset when it needs fewer).
     *
     * @param dir the folder ({@code calibration-data/calibration})
     * @return the images, in folder order
     * @throws IOException if a file cannot be read
     */
    public static List<Image> load(Path dir) throws IOException {
        ImageFolderDataset ds =
                ImageFolderDataset.builder().setRoot(dir).setSampling(1, false).build();
        ds.prepare();
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < ds.size(); i++) {
            images.add(ds.getImage(i));
        }
        return images;
    }

    /**
     * Loads up to {@code count} images.
     *
     * @param folder the folder
     * @param count the most images to load
     * @return the images (fewer if the folder holds fewer)
     * @throws IOException if the folder is missing, holds no images, or an image cannot be read
     *     (the message names the path)
     */
    public static List<Image> load(Path folder, int count) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new NoSuchFileException(folder.toString(), null, "calibration folder not found");
        }
        List<Path> flat = imagesIn(folder);
        List<Image> out = new ArrayList<>();
        if (!flat.isEmpty()) {
            for (Path p : flat.subList(0, Math.min(count, flat.size()))) {
                out.add(read(p));
            }
            return out;
        }
        boolean hasFolders;
        try (java.util.stream.Stream<Path> s = Files.list(folder)) {
            hasFolders = s.anyMatch(Files::isDirectory);
        }
        if (!hasFolders) {
            // neither form: say so for both, not only for the labelled one
            throw new IOException(
                    folder
                            + ": no images in the calibration folder (neither images directly in"
                            + " it nor class folders of images)");
        }
        ImageFolderDataset ds = ImageFolderDataset.builder().setRoot(folder).build();
        ds.prepare();
        int classes = ds.getClasses().size();
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < ds.size(); i++) {
            byClass.get(ds.getLabel(i)).add(i);
        }
        // round robin over the classes: the first n images are balanced for any n
        for (int k = 0; out.size() < count; k++) {
            boolean any = false;
            for (int c = 0; c < classes && out.size() < count; c++) {
                if (k < byClass.get(c).size()) {
                    out.add(ds.getImage(byClass.get(c).get(k)));
                    any = true;
                }
            }
            if (!any) {
                break;
            }
        }
        return out;
    }

    private static List<Path> imagesIn(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(Files::isRegularFile)
                    .filter(CalibrationImages::isImage)
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png")
                || n.endsWith(".jpg")
                || n.endsWith(".jpeg")
                || n.endsWith(".bmp");
    }

    private static Image read(Path p) throws IOException {
        try {
            return ImageFactory.getInstance().fromFile(p);
        } catch (IOException | RuntimeException e) {
            throw new IOException(p + ": not a readable image (" + e.getMessage() + ")", e);
        }
    }
}
