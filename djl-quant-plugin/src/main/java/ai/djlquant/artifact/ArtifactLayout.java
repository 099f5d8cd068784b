package ai.djlquant.artifact;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where an artifact's files are: the directory layout that lets an overwrite be atomic.
 *
 * <pre>
 * resnet-int8/                        the artifact directory the user names; never replaced
 *   current -&gt; .gen-4711-8650342     a relative symbolic link: the one visible entry
 *   .gen-4711-8650342/                the files of the artifact now in place
 *     serving.properties  quantization.json  resnet-0000.params  ...
 * </pre>
 *
 * <p>Why: POSIX can replace a file or a symbolic link atomically (rename), never a non-empty
 * directory, and an artifact is several files read independently (DJL reads {@code
 * serving.properties}, this library {@code quantization.json}, which checksums the rest). So an
 * overwrite writes a new generation directory beside the old one, then renames a new link over
 * {@code current}: at every instant {@code current} names a complete generation, the old or the
 * new. DJL loads the layout as it is: {@code Utils.getNestedModelDir} descends into a model
 * directory's one visible sub-directory (names starting with a dot are not visible), following
 * the link. A relative link inside the directory survives {@code cp -r}, {@code tar} and container
 * copies of the directory.
 *
 * <p>The loaders resolve the link once ({@link #filesOf}) and read everything from that
 * generation, so a load running during an overwrite reads one generation throughout. If the
 * overwrite deletes that generation before the load has read it, the load starts again on the
 * generation now in place ({@link #readCurrent}); it never mixes two.
 * A directory holding the files itself (written before this layout, or a generation named
 * directly) is read as it is.
 *
 * <p>Generation and link names carry the writing process's id ({@code .gen-<pid>-<n>}, {@code
 * .current-<pid>-<n>}), so the next export can tell what a killed one left ({@link
 * ExportDirectory#cleanLeftovers}).
 */
final class ArtifactLayout {

    /** The link naming the generation in place. */
    static final String CURRENT = "current";

    /** The prefix of a generation directory's name. */
    static final String GENERATION_PREFIX = ".gen-";

    /** The prefix of a new link's name before it is renamed over {@link #CURRENT}. */
    static final String LINK_PREFIX = ".current-";

    /** A generation's name: the prefix, the writer's process id, a unique part. */
    private static final Pattern GENERATION_NAME = Pattern.compile("\\.gen-[0-9]+-[A-Za-z0-9_-]+");

    /** How often a read starts again because an overwrite replaced the generation under it. */
    static final int MAX_READS = 4;

    private ArtifactLayout() {}

    /**
     * What is read from one generation's files.
     *
     * @param <T> what the read returns
     */
    @FunctionalInterface
    interface Read<T> {
        /**
         * Reads from a directory of files.
         *
         * @param files the directory
         * @return what was read
         * @throws ArtifactException if the files are not valid
         */
        T from(Path files) throws ArtifactException;
    }

    /**
     * Reads an artifact from the generation in place, starting again (up to {@link #MAX_READS}
     * times) if an overwrite replaced that generation while it was read. A failure of the files
     * themselves (the generation still in place) is thrown at once.
     *
     * @param artifact the artifact directory
     * @param read what to read from its files
     * @param <T> what the read returns
     * @return what was read
     * @throws ArtifactException the read's failure
     */
    static <T> T readCurrent(Path artifact, Read<T> read) throws ArtifactException {
        Path tried = null;
        for (int attempt = 1; ; attempt++) {
            try {
                tried = filesOf(artifact);
                return read.from(tried);
            } catch (ArtifactException e) {
                if (attempt >= MAX_READS || !replacedSince(artifact, tried)) {
                    throw e;
                }
            }
        }
    }

    /** Whether {@code current} now names another generation than the one read (or tried). */
    private static boolean replacedSince(Path artifact, Path tried) {
        try {
            Path now = filesOf(artifact);
            return !now.equals(tried) && !now.equals(artifact);
        } catch (ArtifactException e) {
            return false;
        }
    }

    /**
     * Returns the directory that holds an artifact's files: the generation {@code dir/current}
     * names, or {@code dir} itself where it holds the files (or is itself the link).
     *
     * @param dir the artifact directory
     * @return the directory to read every file from
     * @throws ArtifactException if {@code current} is a link to anything but a generation
     *     directory beside it
     */
    static Path filesOf(Path dir) throws ArtifactException {
        if (Files.isSymbolicLink(dir)) {
            // DJL hands the block factory the nested directory, that is the link itself: pin it
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null && dir.getFileName().toString().equals(CURRENT)) {
                return parent.resolve(generation(dir));
            }
            return dir;
        }
        Path link = dir.resolve(CURRENT);
        if (Files.isSymbolicLink(link)) {
            return dir.resolve(generation(link));
        }
        return dir;
    }

    /**
     * Returns the generation a {@code current} link names, if {@code dir} has one.
     *
     * @param dir the artifact directory
     * @return the generation's name
     * @throws ArtifactException if the link is not a generation's name
     */
    static Optional<String> currentGeneration(Path dir) throws ArtifactException {
        Path link = dir.resolve(CURRENT);
        return Files.isSymbolicLink(link) ? Optional.of(generation(link)) : Optional.empty();
    }

    /** The generation a link names: a plain hidden name beside it, a directory with a manifest. */
    private static String generation(Path link) throws ArtifactException {
        String name;
        try {
            name = Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            throw new ArtifactException(link + " cannot be read: " + e.getMessage(), e);
        }
        if (!GENERATION_NAME.matcher(name).matches()) {
            throw new ArtifactException(
                    link
                            + " points to '"
                            + name
                            + "'; an artifact's "
                            + CURRENT
                            + " link names a "
                            + GENERATION_PREFIX
                            + "* directory beside it.");
        }
        Path gen = link.resolveSibling(name);
        if (!Files.isDirectory(gen, LinkOption.NOFOLLOW_LINKS)) {
            throw new ArtifactException(
                    link + " points to " + name + ", which is not a directory beside it.");
        }
        return name;
    }
}
