package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The PyTorch 2.x format, written for real: DJL's PyTorch engine (libtorch 2.7) loads each 1.13
 * fixture and saves it again with {@code torch::jit::save}; the reader reads that archive
 * ({@code .data/version}, {@code byteorder}, {@code .data/serialization_id}, top folder {@code
 * archive}) to the same module tree and the same tensors, bit for bit.
 */
class LibTorch2ArchiveTest {

    @TempDir Path tmp;

    static Stream<String> models() {
        return Fixtures.MODELS.stream();
    }

    @ParameterizedTest
    @MethodSource("models")
    void libtorch2ArchiveReadsToTheSameTensors(String name) throws Exception {
        Path original = Fixtures.path(name);
        Path resaved = tmp.resolve(name + ".pt");
        Criteria<NDList, NDList> criteria = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(original.getParent())
                .optModelName(name)
                .optEngine("PyTorch")
                .build();
        try (ZooModel<NDList, NDList> model = criteria.loadModel()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            JniUtils.writeModule((PtSymbolBlock) model.getBlock(), out, true);
            byte[] bytes = out.toByteArray();
            // DJL's stream starts with the archive's length as a big-endian long
            long length = ByteBuffer.wrap(bytes, 0, 8).getLong();
            assertEquals(bytes.length - 8, length, "DJL's length prefix");
            Files.write(resaved, Arrays.copyOfRange(bytes, 8, bytes.length));
        }
        TorchScriptArchive before = TorchScriptArchive.read(original);
        TorchScriptArchive after = TorchScriptArchive.read(resaved);
        assertEquals("archive", after.archiveName());
        assertEquals("little", after.byteOrder().orElseThrow());
        assertTrue(after.formatVersion() >= before.formatVersion(), after.toString());
        assertEquals(before.root().qualifiedName(), after.root().qualifiedName());
        Map<String, TensorData> a = tensors(before.root());
        Map<String, TensorData> b = tensors(after.root());
        assertEquals(a.keySet(), b.keySet());
        for (Map.Entry<String, TensorData> e : a.entrySet()) {
            TensorData x = e.getValue();
            TensorData y = b.get(e.getKey());
            assertEquals(x.dtype(), y.dtype(), e.getKey());
            assertArrayEquals(x.shape(), y.shape(), e.getKey());
            assertArrayEquals(x.contiguousBytes(), y.contiguousBytes(), e.getKey());
        }
        assertEquals(before.sources().keySet(), after.sources().keySet());
    }

    private static Map<String, TensorData> tensors(ScriptObject root) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        walk(root, "", out);
        return out;
    }

    private static void walk(ScriptObject module, String prefix, Map<String, TensorData> out) {
        module.attributes().forEach((k, v) -> {
            if (v instanceof TensorData t) {
                out.put(prefix + k, t);
            } else if (v instanceof ScriptObject child) {
                walk(child, prefix + k + ".", out);
            }
        });
    }
}
