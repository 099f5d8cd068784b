package ai.djlquant.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a labelled-test-images option, the committed test split by default. */
final class TestDataOption {

    private TestDataOption() {}

    static LabelledImages open(CommandLine.Model.CommandSpec spec, String option, Path given) {
        Path dir = Home.orDefault(given, Home.testDir());
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), option + " " + dir + " is not a directory.");
        }
        try {
            return LabelledImages.open(dir);
        } catch (IOException | RuntimeException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    option
                            + " "
                            + dir
                            + ": not an IDX split or labelled image folder ("
                            + DjlQuant.message(e)
                            + ").");
        }
    }
}
