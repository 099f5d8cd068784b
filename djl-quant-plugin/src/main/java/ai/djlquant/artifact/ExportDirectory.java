package ai.djlquant.artifact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where an export is written and how it lands, in the layout of {@link ArtifactLayout}: at every
 * instant the target is the complete old artifact or the complete new one.
 *
 * <ul>
 *   <li>{@link Landing#CREATE}: the target does not exist. The new directory (its generation and
 *       the {@code current} link) is staged beside it ({@code .<name>.export-<pid>-*}) and renamed
 *       to the target: one atomic rename.
 *   <li>{@link Landing#SWAP}: the target is an artifact in the layout, or empty. The new
 *       generation is written inside it ({@code .gen-<pid>-*}, invisible to DJL), a new link
 *       ({@code .current-<pid>-*}) is renamed over {@code current} (one atomic rename), and the old
 *       generation is deleted.
 *   <li>{@link Landing#REPLACE}: the target holds the files itself (an artifact written before
 *       the layout, or where the file system has no symbolic links). No rename can replace a
 *       non-empty directory, so the old one is renamed aside ({@code .<name>.old-<pid>-*}) and the
 *       new one renamed in; between the two the target is missing, and a kill there is repaired
 *       by the next export ({@link #cleanLeftovers} renames the old one back). An artifact
 *       replaced this way is in the layout from then on, so this happens once.
 * </ul>
 */
final class ExportDirectory {

    /** How an export lands; see the class documentation. */
    enum Landing {
        CREATE,
        SWAP,
        REPLACE
    }

    /**
     * An export under way.
     *
     * @param target the artifact directory
     * @param files where the new artifact's files are written
     * @param staging what is deleted if the export fails: the staged tree beside the target
     *     ({@code CREATE}, {@code REPLACE}) or the new generation ({@code SWAP})
     * @param landing how it lands
     */
    record Export(Path target, Path files, Path staging, Landing landing) {}

    private ExportDirectory() {}

    /**
     * Checks that the target may be written: absent, or (with overwrite) an artifact or empty.
     *
     * @param target the absolute, normalised artifact directory
     * @param overwrite whether an existing artifact may be replaced
     * @throws ArtifactException if the target must be left alone
     */
    static void checkTarget(Path target, boolean overwrite) throws ArtifactException {
        if (target.getParent() == null) {
            throw new ArtifactException("the artifact directory cannot be the root directory.");
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!overwrite) {
            throw new ArtifactException(
                    target
                            + " already exists; overwrite it explicitly (optOverwrite(true),"
                            + " --overwrite) or choose another directory.");
        }
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new ArtifactException(
                    target + " exists and is not a directory" + (Files.isSymbolicLink(target)
                            ? " (it is a symbolic link; give the directory itself)."
                            : "."));
        }
        Path files = ArtifactLayout.filesOf(target);
        if (!Files.isRegularFile(files.resolve(ArtifactFormat.MANIFEST_FILE))
                && !holdsOnlyLeftovers(target)) {
            throw new ArtifactException(
                    target
                            + " exists and is not an artifact (no "
                            + ArtifactFormat.MANIFEST_FILE
                            + "); it is not replaced.");
        }
    }

    /** Whether a directory is empty but for generations and links of killed exports. */
    private static boolean holdsOnlyLeftovers(Path dir) throws ArtifactException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (!name.startsWith(ArtifactLayout.GENERATION_PREFIX)
                        && !name.startsWith(ArtifactLayout.LINK_PREFIX)) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e, e);
        }
    }

    /**
     * Deletes what killed exports of the target left: beside it, staging directories ({@code
     * .<name>.export-<pid>-*}) and old artifacts moved aside ({@code .<name>.old-<pid>-*}); inside
     * it, generations that {@code current} does not name and new links never renamed ({@code
     * .gen-<pid>-*}, {@code .current-<pid>-*}); only those whose process is no longer alive. A
     * running export's own entries carry a live process id and are left alone (a process id
     * reused since the crash keeps a leftover until that process ends too: untidy, never wrong).
     * An export killed between the two renames of a {@link Landing#REPLACE} left no target and the
     * old artifact aside: that one is renamed back first, so the target is what it was before the
     * killed export.
     *
     * @param target the artifact directory
     * @return how many were deleted or restored
     * @throws ArtifactException if one cannot be deleted or restored
     */
    static int cleanLeftovers(Path target) throws ArtifactException {
        Path parent = target.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return 0;
        }
        int n = 0;
        try {
            n += cleanBeside(target, parent);
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                n += cleanInside(target);
            }
        } catch (IOException | UncheckedIOException e) {
            throw new ArtifactException(
                    "cannot delete what an earlier export left in " + parent + ": " + e, e);
        }
        return n;
    }

    private static int cleanBeside(Path target, Path parent) throws IOException {
        String[] prefixes = {exportPrefix(target), oldPrefix(target)};
        int n = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(parent)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                for (String prefix : prefixes) {
                    if (name.startsWith(prefix)
                            && isDead(name.substring(prefix.length()))
                            && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        if (prefix.equals(oldPrefix(target))
                                && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                                && Files.isRegularFile(p.resolve(ArtifactFormat.MANIFEST_FILE))) {
                            atomicMove(p, target);
                        } else {
                            deleteTree(p);
                        }
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private static int cleanInside(Path target) throws IOException {
        String current;
        try {
            current = ArtifactLayout.currentGeneration(target).orElse(null);
        } catch (ArtifactException e) {
            return 0; // not this library's link: checkTarget refuses the directory, nothing to clean
        }
        int n = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(target)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (name.startsWith(ArtifactLayout.GENERATION_PREFIX)
                        && !name.equals(current)
                        && isDead(name.substring(ArtifactLayout.GENERATION_PREFIX.length()))
                        && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(p);
                    n++;
                } else if (name.startsWith(ArtifactLayout.LINK_PREFIX)
                        && isDead(name.substring(ArtifactLayout.LINK_PREFIX.length()))
                        && Files.isSymbolicLink(p)) {
                    Files.delete(p);
                    n++;
                }
            }
        }
        return n;
    }

    /** Whether {@code <pid>-<rest>} names a process that is not running. */
    private static boolean isDead(String pidAndRest) {
        int dash = pidAndRest.indexOf('-');
        if (dash <= 0) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(pidAndRest.substring(0, dash));
        } catch (NumberFormatException e) {
            return false;
        }
        return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
    }

    private static String exportPrefix(Path target) {
        return "." + target.getFileName() + ".export-";
    }

    private static String oldPrefix(Path target) {
        return "." + target.getFileName() + ".old-";
    }

    /** This process's part of a staging, old, generation or link name. */
    private static String pidTag() {
        return ProcessHandle.current().pid() + "-";
    }

    /**
     * Starts an export: creates where its files go (on the target's file system, so that the
     * final rename can be atomic), creating the target's parent if needed.
     *
     * @param target the checked artifact directory
     * @return the export, its files directory empty
     * @throws ArtifactException if the directories cannot be created
     */
    static Export begin(Path target) throws ArtifactException {
        Path parent = target.getParent();
        try {
            Files.createDirectories(parent);
            boolean exists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
            boolean links = supportsLinks(exists ? target : parent);
            if (exists && links && !Files.isRegularFile(target.resolve(ArtifactFormat.MANIFEST_FILE),
                    LinkOption.NOFOLLOW_LINKS)) {
                // in the layout (or empty): a new generation beside the one in place
                Path gen = newGeneration(target);
                return new Export(target, gen, gen, Landing.SWAP);
            }
            Path staging = Files.createTempDirectory(parent, exportPrefix(target) + pidTag());
            Path files = links ? newGeneration(staging) : staging;
            return new Export(target, files, staging, exists ? Landing.REPLACE : Landing.CREATE);
        } catch (IOException e) {
            throw new ArtifactException("cannot create a directory in " + parent + ": " + e, e);
        }
    }

    private static Path newGeneration(Path dir) throws IOException {
        return Files.createTempDirectory(dir, ArtifactLayout.GENERATION_PREFIX + pidTag());
    }

    /** Whether symbolic links can be made in a directory (not on every file system or OS). */
    private static boolean supportsLinks(Path dir) {
        Path probe = dir.resolve(ArtifactLayout.LINK_PREFIX + pidTag() + "probe");
        try {
            Files.createSymbolicLink(probe, Path.of(ArtifactLayout.CURRENT));
            Files.delete(probe);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * Puts a finished export in place (see the class documentation for each landing).
     *
     * @param export the export, its files written and checked
     * @param steps called after each step, for the fault-injection test
     * @throws IOException if a rename fails (the target is then as it was)
     */
    static void commit(Export export, java.util.function.Consumer<String> steps)
            throws IOException {
        Path target = export.target();
        if (export.landing() == Landing.SWAP) {
            String old = currentGenerationOrNull(target);
            Path link =
                    target.resolve(
                            ArtifactLayout.LINK_PREFIX
                                    + export.files().getFileName().toString().substring(
                                            ArtifactLayout.GENERATION_PREFIX.length()));
            Files.createSymbolicLink(link, export.files().getFileName());
            steps.accept("link created");
            try {
                atomicMove(link, target.resolve(ArtifactLayout.CURRENT));
            } catch (IOException e) {
                Files.deleteIfExists(link);
                throw e;
            }
            steps.accept("new linked in");
            if (old != null) {
                deleteQuietly(target.resolve(old));
            }
            steps.accept("old deleted");
            return;
        }
        if (!export.files().equals(export.staging())) {
            Files.createSymbolicLink(
                    export.staging().resolve(ArtifactLayout.CURRENT),
                    export.files().getFileName());
        }
        if (export.landing() == Landing.CREATE) {
            atomicMove(export.staging(), target);
            steps.accept("new moved in");
            return;
        }
        Path old = Files.createTempDirectory(target.getParent(), oldPrefix(target) + pidTag());
        Files.delete(old);
        atomicMove(target, old);
        steps.accept("old moved aside");
        try {
            atomicMove(export.staging(), target);
        } catch (IOException e) {
            atomicMove(old, target); // put the old artifact back
            throw e;
        }
        steps.accept("new moved in");
        deleteQuietly(old);
    }

    private static String currentGenerationOrNull(Path target) throws IOException {
        try {
            return ArtifactLayout.currentGeneration(target).orElse(null);
        } catch (ArtifactException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Deletes a replaced directory: the new artifact is in place; a leftover is only untidy. */
    private static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            // the next export's cleanup deletes it (its process id is dead by then)
        }
    }

    private static void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(
                    "the file system cannot rename " + from + " to " + to + " atomically", e);
        }
    }

    /**
     * Deletes a failed export's staging directory or generation, keeping what goes wrong with the
     * failure.
     *
     * @param export the failed export
     * @param failure why the export failed
     */
    static void abort(Export export, Throwable failure) {
        try {
            deleteTree(export.staging());
        } catch (IOException | UncheckedIOException e) {
            failure.addSuppressed(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(all::add);
        }
        all.sort(Comparator.reverseOrder());
        for (Path p : all) {
            Files.delete(p);
        }
    }
}
