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
     * Deletes what killed exports of the target left beside it: staging directories ({@code
     * .<name>.export-<pid>-*}) and old artifacts moved aside ({@code .<name>.old-<pid>-*}) whose
     * process is no longer alive. A running export's own directories carry a live process id and
     * are left alone (a process id reused since the crash keeps a leftover until that process ends
     * too: untidy, never wrong). An export killed between its two renames left no target and
     * the old artifact aside: that one is renamed back first, so the target is what it was before
     * the killed export.
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
        } catch (IOException | UncheckedIOException e) {
            throw new ArtifactException(
                    "cannot delete what an earlier export left in " + parent + ": " + e, e);
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

    /** This process's part of a staging or old directory's name. */
    private static String pidTag() {
        return ProcessHandle.current().pid() + "-";
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
            return Files.createTempDirectory(parent, exportPrefix(target) + pidTag());
        } catch (IOException e) {
            throw new ArtifactException("cannot create a directory in " + parent + ": " + e, e);
        }
    }

    /**
     * Renames the finished directory into place, replacing an old artifact only at the end.
     *
     * @param staging the finished staging directory
     * @param target the artifact directory
     * @param steps called after each rename, for the fault-injection test
     * @throws IOException if a rename fails (an old artifact is then back in place)
     */
    static void moveIntoPlace(Path staging, Path target, java.util.function.Consumer<String> steps)
            throws IOException {
        if (!Files.exists(target)) {
            atomicMove(staging, target);
            steps.accept("new moved in");
            return;
        }
        Path old = Files.createTempDirectory(target.getParent(), oldPrefix(target) + pidTag());
        Files.delete(old);
        atomicMove(target, old);
        steps.accept("old moved aside");
        try {
            atomicMove(staging, target);
        } catch (IOException e) {
            atomicMove(old, target); // put the old artifact back
            throw e;
        }
        steps.accept("new moved in");
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
