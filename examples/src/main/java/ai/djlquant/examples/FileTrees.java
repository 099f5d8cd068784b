package ai.djlquant.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directory helpers for the programs that write committed output (data subset, models). */
public final class FileTrees {

    private FileTrees() {}

    /**
     * Deletes a directory and everything below it; does nothing if it does not exist.
     *
     * @param dir the directory
     * @throws IOException if something cannot be deleted
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /**
     * Replaces {@code target} by the complete directory {@code staged} (a sibling written first):
     * the old target is deleted only once the new content exists, then the rename is atomic.
     *
     * @param staged the finished directory, in the same parent as {@code target}
     * @param target the directory to replace
     * @throws IOException if the old directory cannot be deleted or the rename fails
     */
    public static void replace(Path staged, Path target) throws IOException {
        deleteTree(target);
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    }
}
