package ai.djlquant.cli;

import ai.djl.modality.cv.Image;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.data.ImageFolderDataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Labelled test images: a directory of IDX files (such as the committed Fashion-MNIST test split)
 * or a labelled image folder (one sub-folder per class, sorted folder names in the classifier's
 * class order). Label {@code i} is the {@code i}-th class of the translator's synset.
 */
abstract class LabelledImages {

    /** The number of images. */
    abstract int size();

    /** One image. */
    abstract Image image(int index) throws IOException;

    /** Its class index. */
    abstract int label(int index);

    /** A description for tables. */
    abstract String describe();

    /** The IDX split, when the directory holds one (for latency measurements). */
    IdxDataset idx() {
        return null;
    }

    /**
     * Opens a directory: IDX files ({@code t10k-*} for the test split, else {@code train-*}) or an
     * image folder.
     */
    static LabelledImages open(Path dir) throws IOException {
        if (hasIdx(dir, "t10k-") || hasIdx(dir, "train-")) {
            IdxDataset ds =
                    IdxDataset.builder()
                            .setDirectory(dir)
                            .optUsage(
                                    hasIdx(dir, "t10k-") ? Dataset.Usage.TEST : Dataset.Usage.TRAIN)
                            .build();
            ds.prepare();
            return new LabelledImages() {
                @Override
                int size() {
                    return (int) ds.size();
                }

                @Override
                Image image(int index) {
                    return ds.getImage(index);
                }

                @Override
                int label(int index) {
                    return ds.getLabel(index);
                }

                @Override
                String describe() {
                    return "IDX split " + dir;
                }

                @Override
                IdxDataset idx() {
                    return ds;
                }
            };
        }
        ImageFolderDataset ds = ImageFolderDataset.builder().setRoot(dir).build();
        ds.prepare();
        return new LabelledImages() {
            @Override
            int size() {
                return (int) ds.size();
            }

            @Override
            Image image(int index) throws IOException {
                return ds.getImage(index);
            }

            @Override
            int label(int index) {
                return ds.getLabel(index);
            }

            @Override
            String describe() {
                return "image folder " + dir + " (" + ds.getClasses().size() + " classes)";
            }
        };
    }

    private static boolean hasIdx(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(
                    p -> {
                        String n = p.getFileName().toString();
                        return n.startsWith(prefix) && n.contains("-images-idx3-ubyte");
                    });
        }
    }
}
