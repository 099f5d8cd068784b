package ai.djlquant.artifact;

import ai.djl.Model;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The child JVM of {@link ExportKillTest}: quantizes a small residual network and exports it over
 * an existing artifact, stopping (to be killed) when the export reaches the named step.
 */
final class ExportChild {

    private ExportChild() {}

    /**
     * Runs the export.
     *
     * @param args the target directory, the step to stop at, the model's seed
     * @throws Exception if the export fails
     */
    public static void main(String[] args) throws Exception {
        Path target = Paths.get(args[0]);
        String stopAt = args[1];
        int seed = Integer.parseInt(args[2]);
        try (Model m = TestNets.floatModel(new TestNets.ResidualNet(), "net", seed)) {
            TestNets.quantize(m);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .optOverwrite(true)
                    .build()
                    .write(
                            target,
                            step -> {
                                if (step.equals(stopAt)) {
                                    System.out.println("AT " + step);
                                    System.out.flush();
                                    while (true) {
                                        try {
                                            Thread.sleep(60_000);
                                        } catch (InterruptedException e) {
                                            // wait to be killed
                                        }
                                    }
                                }
                            });
        }
        System.out.println("DONE");
    }
}
