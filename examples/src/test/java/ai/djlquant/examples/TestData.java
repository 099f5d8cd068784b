package ai.djlquant.examples;

import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the committed data and models are (surefire passes the paths; defaults for IDE runs). */
public final class TestData {

    private TestData() {}

    /**
     * Returns the committed test split directory.
     *
     * @return calibration-data/test
     */
    public static Path testDir() {
        return path("fashion.test.dir", "../calibration-data/test");
    }

    /**
     * Returns the committed calibration image folder.
     *
     * @return calibration-data/calibration
     */
    public static Path calibrationDir() {
        return path("fashion.calibration.dir", "../calibration-data/calibration");
    }

    /**
     * Returns the committed models directory.
     *
     * @return examples/models
     */
    public static Path modelsDir() {
        return path("reference.models.dir", "models");
    }

    private static Path path(String property, String fallback) {
        return Paths.get(System.getProperty(property, fallback)).toAbsolutePath().normalize();
    }
}
