package ai.djlquant.artifact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where an export is written: a hidden staging directory beside the target, renamed into place
 * only once it is complete and checked, so that the target is either the old artifact or the new
 * one, never half of either.
 */
final class ExportDirectory {

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
        if (!Files.exists(target)) {
            return;
        }
        if (!overwrite) {
            throw new ArtifactException(
                    target
                            + " already exists; overwrite it explicitly (optOverwrite(true),"
                            + " --overwrite) or choose another directory.");
        }
        if (!Files.isDirectory(target)) {
            throw new ArtifactException(target + " exists and is not a directory.");
        }
        if (!Files.isRegularFile(target.resolve(ArtifactFormat.MANIFEST_FILE))
                && !isEmptyDirectory(target)) {
            throw new ArtifactException(
                    target
                            + " exists and is not an artifact (no "
                            + ArtifactFormat.MANIFEST_FILE
                            + "); it is not replaced.");
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws ArtifactException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e, e);
        }
    }

    /**
     * Creates the staging directory beside the target (on the same file system, so that the final
     * rename can be atomic), creating the target's parent if needed.
     *
     * @param target the artifact directory
     * @return the new, empty staging directory
     * @throws ArtifactException if it cannot be created
     */
    static Path createStaging(Path target) throws ArtifactException {
        Path parent = target.getParent();
        try {
            Files.createDirectories(parent);
            return Files.createTempDirectory(parent, "." + target.getFileName() + ".export-");
        } catch (IOException e) {
            throw new ArtifactException("cannot create a directory in " + parent + ": " + e, e);
        }
    }

    /**
     * Renames the finished directory into place, replacing an old artifact only at the end.
     *
     * @param staging the finished staging directory
     * @param target the artifact directory
     * @throws IOException if a rename fails (an old artifact is then back in place)
     */
    static void moveIntoPlace(Path staging, Path target) throws IOException {
        if (!Files.exists(target)) {
            atomicMove(staging, target);
            return;
        }
        Path old =
                Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
        Files.delete(old);
        atomicMove(target, old);
        try {
            atomicMove(staging, target);
        } catch (IOException e) {
            atomicMove(old, target); // put the old artifact back
            throw e;
        }
        try {
            deleteTree(old);
        } catch (IOException e) {
            // the new artifact is in place; a leftover hidden directory is only untidy
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
     * Deletes a failed export's staging directory, keeping what goes wrong with the failure.
     *
     * @param staging the staging directory
     * @param failure why the export failed
     */
    static void deleteQuietly(Path staging, Throwable failure) {
        try {
            deleteTree(staging);
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
