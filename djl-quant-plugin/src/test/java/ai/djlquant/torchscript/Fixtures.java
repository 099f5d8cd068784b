package ai.djlquant.torchscript;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/** The committed TorchScript fixtures (examples/scripts/torchscript/make_fixtures.py). */
final class Fixtures {

    /** The torchvision models, the BERT-style encoder and the trained Fashion-MNIST ResNet, traced in eval mode. */
    static final List<String> MODELS =
            List.of(
                    "resnet18",
                    "resnet50",
                    "mobilenet_v2",
                    "mobilenet_v3_small",
                    "efficientnet_b0",
                    "bert_encoder",
                    "fmnist_resnet");

    /** The small fixtures for the reader itself. */
    static final List<String> READER = List.of("dtypes", "views", "constants", "attributes", "tiny");

    private Fixtures() {}

    /**
     * The path of one fixture.
     *
     * @param name the file's stem
     * @return the {@code .pt} under the test resources
     */
    static Path path(String name) {
        try {
            return Paths.get(Fixtures.class.getResource("/torchscript/" + name + ".pt").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("no fixture torchscript/" + name + ".pt on the test class path", e);
        }
    }
}
