package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * What the importer refuses, each with one sentence naming the archive, the module path and the
 * source line (fixtures: examples/scripts/torchscript/make_import_fixtures.py).
 */
class TorchScriptImportRefusalTest {

    private static Path fixture(String name) throws URISyntaxException {
        return Paths.get(TorchScriptImportRefusalTest.class
                .getResource("/torchscript/import/" + name + ".pt").toURI());
    }

    private static String refusal(Path file, Shape shape) {
        TorchScriptFormatException e = assertThrows(TorchScriptFormatException.class,
                () -> TorchScriptImporter.builder(file).optInputShapes(shape).build()
                        .importModel());
        System.out.println(e.getMessage());
        return e.getMessage();
    }

    @Test
    void anOpNotInTheTableIsNamedWithItsModuleAndLine() throws Exception {
        String m = refusal(fixture("cumsum"), new Shape(1, 4));
        assertTrue(m.contains("the op torch.cumsum"), m);
        assertTrue(m.contains("in module (root)"), m);
        assertTrue(m.contains("code/__torch__.py:10"), m);
        assertTrue(m.contains("cumsum.pt"), m);
    }

    @Test
    void controlFlowIsRefusedAtItsLine() throws Exception {
        String m = refusal(fixture("scripted_if"), new Shape(1, 4));
        assertTrue(m.contains("the 'if' statement"), m);
        assertTrue(m.contains("in module (root) at code/__torch__.py:8"), m);
    }

    @Test
    void aTransposedConvolutionIsRefused() throws Exception {
        String m = refusal(fixture("conv_transpose"), new Shape(1, 2, 5, 5));
        assertTrue(m.contains("a transposed convolution"), m);
        assertTrue(m.contains("in module 0 at code/__torch__/torch/nn/modules/conv.py:12"), m);
    }

    @Test
    void batchNormTracedInTrainingModeIsRefused() throws Exception {
        String m = refusal(fixture("train_mode_bn"), new Shape(1, 2, 5, 5));
        assertTrue(m.contains("training mode"), m);
        assertTrue(m.contains("in module 1"), m);
    }

    @Test
    void aFileThatIsNotTorchScriptIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("model.pt");
        Files.writeString(f, "not a zip");
        String m = refusal(f, new Shape(1, 4));
        assertTrue(m.contains("model.pt"), m);
    }

    @Test
    void inputShapesAreRequired() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchScriptImporter.builder(fixture("cumsum")).build());
        assertTrue(e.getMessage().contains("optInputShapes is required"), e.getMessage());
    }

    @Test
    void aForwardThatFailsOnTheGivenShapesIsRefused() throws Exception {
        String m = refusal(Fixtures.path("resnet18"), new Shape(1, 5, 64, 64));
        assertTrue(m.contains("the imported forward fails on inputs [(1, 5, 64, 64)]"), m);
    }
}
