package ai.djlquant.examples.data;

import ai.djlquant.examples.FileTrees;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import javax.imageio.ImageIO;

/**
 * Regenerates {@code calibration-data/} from the Fashion-MNIST IDX originals.
 *
 * <ul>
 *   <li>{@code calibration/<NN-class>/train-<index>.png}: a class-balanced subset of the TRAIN
 *       split, {@code perClass} images of every class drawn with {@code java.util.Random(seed)},
 *       written as 8-bit grayscale PNGs named after their index in train-images-idx3-ubyte;
 *   <li>{@code test/}: the TEST split's two IDX .gz files, copied byte for byte.
 * </ul>
 *
 * <p>Usage: {@code MakeCalibrationSubset <idx-dir> <calibration-data-dir> [--seed 42] [--per-class
 * 100]}. The subset is written to a temporary folder first and replaces the old one only when
 * complete.
 */
public final class MakeCalibrationSubset {

    /** The seed the committed subset was drawn with. */
    public static final long DEFAULT_SEED = 42;

    /** Images per class in the committed subset. */
    public static final int DEFAULT_PER_CLASS = 100;

    private static final String[] TEST_FILES = {
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
    };

    private MakeCalibrationSubset() {}

    /**
     * Runs the program.
     *
     * @param args the IDX directory, the output directory, then optional {@code --seed N} and
     *     {@code --per-class N}
     * @throws IOException if reading or writing fails
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println(
                    "usage: MakeCalibrationSubset <idx-dir> <calibration-data-dir>"
                            + " [--seed 42] [--per-class 100]");
            System.exit(2);
        }
        Path idxDir = Paths.get(args[0]);
        Path outDir = Paths.get(args[1]);
        long seed = DEFAULT_SEED;
        int perClass = DEFAULT_PER_CLASS;
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--seed":
                    seed = Long.parseLong(args[i + 1]);
                    break;
                case "--per-class":
                    perClass = Integer.parseInt(args[i + 1]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        IdxDataset train =
                IdxDataset.builder()
                        .setDirectory(idxDir)
                        .optUsage(ai.djl.training.dataset.Dataset.Usage.TRAIN)
                        .build();
        train.prepare();
        List<List<Integer>> chosen = choose(train, seed, perClass);

        Files.createDirectories(outDir);
        Path target = outDir.resolve("calibration");
        Path tmp = Files.createTempDirectory(outDir, ".calibration-");
        try {
            for (int label = 0; label < FashionMnist.NUM_CLASSES; label++) {
                Path folder = tmp.resolve(FashionMnist.FOLDER_NAMES.get(label));
                Files.createDirectories(folder);
                for (int index : chosen.get(label)) {
                    String name = String.format("train-%05d.png", index);
                    writePng(train.pixelsOf(index), folder.resolve(name));
                }
            }
            FileTrees.replace(tmp, target);
        } finally {
            FileTrees.deleteTree(tmp);
        }
        System.out.printf(
                "wrote %d images (%d per class, seed %d) to %s%n",
                perClass * FashionMnist.NUM_CLASSES, perClass, seed, target);

        Path testDir = outDir.resolve("test");
        Files.createDirectories(testDir);
        for (String name : TEST_FILES) {
            Path copy = testDir.resolve(name);
            Files.copy(idxDir.resolve(name), copy, StandardCopyOption.REPLACE_EXISTING);
            System.out.printf("copied %s  sha256 %s%n", copy, sha256(copy));
        }
    }

    /**
     * Draws {@code perClass} training indices of every class: each class's indices in file order
     * are shuffled with one {@code Random(seed)} (classes in label order), the first {@code
     * perClass} kept and sorted.
     *
     * @param train the prepared training split
     * @param seed the seed
     * @param perClass images per class
     * @return the chosen indices of every class, in label order
     */
    public static List<List<Integer>> choose(IdxDataset train, long seed, int perClass) {
        List<List<Integer>> byClass = new ArrayList<>();
        for (int label = 0; label < FashionMnist.NUM_CLASSES; label++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < train.size(); i++) {
            byClass.get(train.getLabel(i)).add(i);
        }
        Random random = new Random(seed);
        List<List<Integer>> chosen = new ArrayList<>();
        for (int label = 0; label < FashionMnist.NUM_CLASSES; label++) {
            List<Integer> indices = byClass.get(label);
            if (indices.size() < perClass) {
                throw new IllegalArgumentException(
                        "class " + label + " has only " + indices.size() + " training images");
            }
            Collections.shuffle(indices, random);
            List<Integer> kept = new ArrayList<>(indices.subList(0, perClass));
            Collections.sort(kept);
            chosen.add(kept);
        }
        return chosen;
    }

    static void writePng(byte[] pixels, Path file) throws IOException {
        int size = FashionMnist.IMAGE_SIZE;
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        byte[] target = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        System.arraycopy(pixels, 0, target, 0, pixels.length);
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException(file + ": no PNG writer available");
        }
    }

    /**
     * Computes the SHA-256 of a file.
     *
     * @param file the file
     * @return the digest as lower-case hex
     * @throws IOException if the file cannot be read
     */
    public static String sha256(Path file) throws IOException {
        try (InputStream in =
                new DigestInputStream(
                        Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
