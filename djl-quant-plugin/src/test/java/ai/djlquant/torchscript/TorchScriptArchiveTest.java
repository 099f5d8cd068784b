package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Pair;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads the committed fixtures and checks the module trees and tensors against DJL's engine. */
class TorchScriptArchiveTest {

    static Stream<String> allFixtures() {
        return Stream.concat(Fixtures.MODELS.stream(), Fixtures.READER.stream());
    }

    @ParameterizedTest
    @MethodSource("allFixtures")
    void everyFixtureReads(String name) throws Exception {
        TorchScriptArchive archive = TorchScriptArchive.read(Fixtures.path(name));
        assertEquals(name, archive.archiveName());
        assertTrue(archive.formatVersion() >= 3 && archive.formatVersion() <= 10, archive.toString());
        assertTrue(archive.root().qualifiedName().startsWith("__torch__."), archive.root().qualifiedName());
        assertTrue(archive.sources().containsKey("__torch__.py") || archive.sources().keySet().stream()
                .anyMatch(k -> k.startsWith("__torch__/")), archive.sources().keySet().toString());
        assertFalse(archive.sources().keySet().stream().anyMatch(k -> k.endsWith(".debug_pkl")));
        assertTrue(archive.byteOrder().isEmpty(), "1.13 writes no byteorder record");
        if (!name.equals("tiny")) { // tiny.pt (the quantizer's refusal test) was scripted in train mode
            assertEquals(Boolean.FALSE, archive.root().attributes().get("training"), "traced in eval mode");
        }
    }

    @Test
    void versionsAreTheRecordsOf113() throws Exception {
        assertEquals(3, TorchScriptArchive.read(Fixtures.path("resnet18")).formatVersion());
        // gelu has dynamic version 10, written under .data/version
        assertEquals(10, TorchScriptArchive.read(Fixtures.path("bert_encoder")).formatVersion());
    }

    @Test
    void resnet18TreeIsTorchvisions() throws Exception {
        TorchScriptArchive archive = TorchScriptArchive.read(Fixtures.path("resnet18"));
        ScriptObject root = archive.root();
        assertEquals("__torch__.torchvision.models.resnet.ResNet", root.qualifiedName());
        List<String> children = new ArrayList<>();
        root.attributes().forEach((k, v) -> {
            if (v instanceof ScriptObject) {
                children.add(k);
            }
        });
        assertEquals(List.of("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                "avgpool", "fc"), children);
        ScriptObject conv1 = root.child("conv1").orElseThrow();
        assertTrue(conv1.qualifiedName().startsWith("__torch__.torch.nn.modules.conv."), conv1.qualifiedName());
        assertEquals("Conv2d", conv1.simpleName());
        TensorData weight = conv1.tensor("weight").orElseThrow();
        assertEquals("float32", weight.dtype());
        assertArrayEquals(new long[] {8, 3, 7, 7}, weight.shape());
        assertArrayEquals(new long[] {147, 49, 7, 1}, weight.strides());
        assertTrue(weight.requiresGrad());
        ScriptObject bn1 = root.child("bn1").orElseThrow();
        assertEquals("BatchNorm2d", bn1.simpleName());
        for (String buffer : List.of("weight", "bias", "running_mean", "running_var")) {
            assertArrayEquals(new long[] {8}, bn1.tensor(buffer).orElseThrow().shape(), buffer);
        }
        assertArrayEquals(new long[] {}, bn1.tensor("num_batches_tracked").orElseThrow().shape());
        assertEquals("int64", bn1.tensor("num_batches_tracked").orElseThrow().dtype());
        assertFalse(bn1.tensor("running_mean").orElseThrow().requiresGrad());
        // running statistics were moved by train-mode batches before tracing
        float[] mean = bn1.tensor("running_mean").orElseThrow().toFloatArray();
        float[] var = bn1.tensor("running_var").orElseThrow().toFloatArray();
        assertTrue(Math.abs(mean[0]) > 1e-3 && Math.abs(var[0] - 1) > 1e-3, mean[0] + " " + var[0]);
        ScriptObject conv2 = root.child("layer1").orElseThrow().child("0").orElseThrow().child("conv1").orElseThrow();
        assertTrue(conv2.qualifiedName().contains(".___torch_mangle_"), conv2.qualifiedName());
        assertEquals("__torch__.torch.nn.modules.conv.Conv2d", conv2.unmangledName());
        assertTrue(archive.sources().get(conv2.sourcePath()).contains("class Conv2d(Module):"), conv2.sourcePath());
        assertEquals("__torch__/torchvision/models/resnet.py", root.sourcePath());
        assertEquals(root.qualifiedName(), root.unmangledName());
        ScriptObject layer1 = root.child("layer1").orElseThrow();
        assertEquals("Sequential", layer1.simpleName());
        ScriptObject block = layer1.child("0").orElseThrow();
        assertEquals("__torch__.torchvision.models.resnet.BasicBlock", block.qualifiedName());
        ScriptObject down = root.child("layer2").orElseThrow().child("0").orElseThrow().child("downsample").orElseThrow();
        assertArrayEquals(new long[] {16, 8, 1, 1}, down.child("0").orElseThrow().tensor("weight").orElseThrow().shape());
        ScriptObject fc = root.child("fc").orElseThrow();
        assertArrayEquals(new long[] {10, 64}, fc.tensor("weight").orElseThrow().shape());
        assertArrayEquals(new long[] {10}, fc.tensor("bias").orElseThrow().shape());
        assertTrue(archive.sources().containsKey("__torch__/torchvision/models/resnet.py"), archive.sources().keySet().toString());
        assertTrue(archive.sources().get("__torch__/torchvision/models/resnet.py").contains("class ResNet(Module):"));
        assertThrows(UnsupportedOperationException.class, () -> root.attributes().put("x", 1L));
        assertTrue(root.child("fc.weight").isEmpty() && root.tensor("conv1").isEmpty() && root.child("nope").isEmpty());
    }

    static Stream<String> models() {
        return Fixtures.MODELS.stream();
    }

    /**
     * Every parameter the reader finds equals, bit for bit, the one DJL's PyTorch engine loads from
     * the same file (the engine's names are the dotted paths of named_parameters()).
     */
    @ParameterizedTest
    @MethodSource("models")
    void parametersEqualDjlsPyTorchEngine(String name) throws Exception {
        Path path = Fixtures.path(name);
        Map<String, TensorData> ours = new LinkedHashMap<>();
        collect(TorchScriptArchive.read(path).root(), "", ours);
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(path.getParent())
                        .optModelName(name)
                        .optEngine("PyTorch")
                        .build();
        try (ZooModel<NDList, NDList> model = criteria.loadModel();
                NDManager manager = NDManager.newBaseManager("PyTorch")) {
            int compared = 0;
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                TensorData mine = ours.get(p.getKey());
                assertTrue(mine != null, "the reader has no tensor " + p.getKey() + "; it has " + ours.keySet());
                NDArray theirs = p.getValue().getArray();
                try (NDArray copy = mine.toNDArray(manager)) {
                    assertEquals(theirs.getShape(), copy.getShape(), p.getKey());
                    assertEquals(theirs.getDataType(), copy.getDataType(), p.getKey());
                    assertArrayEquals(theirs.toByteArray(), copy.toByteArray(), p.getKey());
                    assertArrayEquals(theirs.toFloatArray(), mine.toFloatArray(), 0f, p.getKey());
                }
                compared++;
            }
            long parameters = ours.values().stream().filter(TensorData::requiresGrad).count();
            assertEquals(parameters, compared, "every parameter of the archive is one of DJL's");
            assertTrue(compared > 5, name + ": " + compared);
        }
    }

    private static void collect(ScriptObject module, String prefix, Map<String, TensorData> out) {
        module.attributes().forEach((k, v) -> {
            if (v instanceof TensorData t) {
                out.put(prefix + k, t);
            } else if (v instanceof ScriptObject child) {
                collect(child, prefix + k + ".", out);
            }
        });
    }
}
