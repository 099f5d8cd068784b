package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djlquant.CalibrationData;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactManifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory holding a {@code .pt} loads through plain Criteria with {@link
 * TorchScriptBlockFactory}; the quantized import exports as an artifact that carries the {@code
 * .pt} and loads back through Criteria and {@link ArtifactLoader} with identical outputs.
 */
class TorchScriptArtifactTest {

    private static NDArray run(Block block, NDManager m, NDArray x) {
        return block.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
    }

    private static Shape batch(Shape one, long n) {
        long[] d = one.getShape().clone();
        d[0] = n;
        return new Shape(d);
    }

    private static Path modelDir(Path dir, String serving) throws Exception {
        Files.copy(Fixtures.path("resnet18"), dir.resolve("resnet18.pt"));
        Files.writeString(dir.resolve("serving.properties"), serving);
        return dir;
    }

    @Test
    void aDirectoryWithAPtLoadsThroughCriteriaAsAWalkableTree(@TempDir Path tmp) throws Exception {
        Path dir = modelDir(tmp, "engine=PyTorch\n"
                + "blockFactory=ai.djlquant.torchscript.TorchScriptBlockFactory\n"
                + "option.hasParameter=false\n"
                + "inputShape=1,3,64,64\n");
        Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class)
                .optModelPath(dir).build();
        try (ZooModel<NDList, NDList> loaded = c.loadModel();
                Model imported = TorchScriptImporterTest.importFixture("resnet18");
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            assertTrue(loaded.getBlock() instanceof ScriptModuleBlock, loaded.getBlock().toString());
            NDArray x = m.randomNormal(new Shape(2, 3, 64, 64));
            assertArrayEquals(run(imported.getBlock(), m, x).toFloatArray(),
                    run(loaded.getBlock(), m, x).toFloatArray(), 0f);
        }
    }

    @Test
    void aMissingInputShapeIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = modelDir(tmp, "engine=PyTorch\n"
                + "blockFactory=ai.djlquant.torchscript.TorchScriptBlockFactory\n"
                + "option.hasParameter=false\n");
        Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class)
                .optModelPath(dir).build();
        Exception e = assertThrows(Exception.class, () -> c.loadModel().close());
        String all = e.toString() + (e.getCause() == null ? "" : e.getCause().toString());
        assertTrue(all.contains("the argument inputShape is required"), all);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "fmnist_resnet"})
    void theQuantizedImportRoundTripsThroughAnArtifact(String name, @TempDir Path tmp)
            throws Exception {
        Path artifact = tmp.resolve("int8");
        Shape one = name.equals("resnet18") ? new Shape(1, 3, 64, 64) : new Shape(1, 1, 28, 28);
        try (Model model = TorchScriptImporter.builder(Fixtures.path(name))
                        .optInputShapes(one).build().importModel();
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            List<NDList> cal = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                cal.add(new NDList(model.getNDManager().randomNormal(batch(one, 2))));
            }
            Quantizer.quantize(model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            ArtifactManifest manifest =
                    TorchScriptBlockFactory.artifactWriter(model).build().write(artifact);
            assertTrue(manifest.getFiles().containsKey(name + ".pt"), manifest.getFiles().keySet()
                    .toString());
            String serving =
                    Files.readString(
                            ArtifactLoader.filesDirectory(artifact).resolve("serving.properties"));
            assertTrue(serving.contains("baseBlockFactory=ai.djlquant.torchscript"
                    + ".TorchScriptBlockFactory"), serving);

            NDArray x = m.randomNormal(batch(one, 3));
            float[] want = run(model.getBlock(), m, x).toFloatArray();
            Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class)
                    .optModelPath(artifact).build();
            try (ZooModel<NDList, NDList> viaCriteria = c.loadModel();
                    Model viaLoader = ArtifactLoader.load(artifact)) {
                assertArrayEquals(want, run(viaCriteria.getBlock(), m, x).toFloatArray(), 0f);
                assertArrayEquals(want, run(viaLoader.getBlock(), m, x).toFloatArray(), 0f);
            }
        }
    }

    private static String loadFailure(Path dir) {
        Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class)
                .optModelPath(dir).build();
        Exception e = assertThrows(Exception.class, () -> c.loadModel().close());
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    @Test
    void twoPtFilesNeedTheArgumentAndTheArgumentIsAPlainName(@TempDir Path tmp) throws Exception {
        String serving = "engine=PyTorch\n"
                + "blockFactory=ai.djlquant.torchscript.TorchScriptBlockFactory\n"
                + "option.hasParameter=false\n"
                + "inputShape=1,3,64,64\n";
        Path dir = modelDir(tmp, serving);
        Files.copy(Fixtures.path("resnet50"), dir.resolve("resnet50.pt"));
        String m = loadFailure(dir);
        assertTrue(m.contains("holds 2 .pt files"), m);
        assertTrue(m.contains("name one with the argument torchscript=FILE.pt"), m);
        Files.writeString(dir.resolve("serving.properties"), serving + "torchscript=../resnet50.pt\n");
        m = loadFailure(dir);
        assertTrue(m.contains("must be a file name in the model directory"), m);
    }

    @Test
    void aModelNotImportedHasNoTorchScriptWriter() {
        try (Model plain = Model.newInstance("plain", "PyTorch")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TorchScriptBlockFactory.artifactWriter(plain));
            assertEquals("model 'plain' was not imported from a TorchScript archive"
                    + " (TorchScriptImporter or TorchScriptBlockFactory).", e.getMessage());
        }
    }
}
