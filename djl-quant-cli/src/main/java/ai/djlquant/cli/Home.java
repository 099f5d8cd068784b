package ai.djlquant.cli;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where the committed reference models and data are: under the djl-quant home, the repository root
 * ({@code -Ddjlquant.home}, set by the {@code ./djl-quant} launcher; the working directory
 * otherwise).
 */
final class Home {

    private Home() {}

    static Path root() {
        return Paths.get(System.getProperty("djlquant.home", ".")).toAbsolutePath().normalize();
    }

    /** The reference models: {@code examples/models}. */
    static Path modelsDir() {
        return root().resolve("examples/models");
    }

    /** The committed calibration subset: {@code calibration-data/calibration}. */
    static Path calibrationDir() {
        return root().resolve("calibration-data/calibration");
    }

    /** The committed test split: {@code calibration-data/test}. */
    static Path testDir() {
        return root().resolve("calibration-data/test");
    }

    /** A path as the user gave it, or a default under the home. */
    static Path orDefault(Path given, Path fallback) {
        return given != null ? given : fallback;
    }
}
