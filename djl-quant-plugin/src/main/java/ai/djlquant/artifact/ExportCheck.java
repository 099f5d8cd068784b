package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The export's last step before the rename: the staging directory is loaded as a server would load
 * it, and every parameter compared with the model's, bit for bit, so that an artifact that does not
 * load back identically never replaces anything.
 */
final class ExportCheck {

    private ExportCheck() {}

    /**
     * Loads the written directory and compares every parameter with the model's.
     *
     * @param staging the written directory
     * @param root the quantized model's root block
     * @param arguments the block factory arguments of the export
     * @throws ArtifactException if the directory does not verify, load, or give the same parameters
     */
    static void verify(Path staging, Block root, Map<String, String> arguments)
            throws ArtifactException {
        ArtifactManifest m = ArtifactLoader.verify(staging);
        try (Model check = Model.newInstance(m.getModelName(), m.getEngine())) {
            Block loaded = ArtifactLoader.rebuild(check, staging, m, new HashMap<>(arguments));
            Map<String, NDArray> want = arrays(root);
            Map<String, NDArray> got = arrays(loaded);
            for (Map.Entry<String, NDArray> e : want.entrySet()) {
                NDArray a = e.getValue();
                NDArray b = got.get(e.getKey());
                if (b == null
                        || a.getDataType() != b.getDataType()
                        || !a.getShape().equals(b.getShape())
                        || !Arrays.equals(a.toByteArray(), b.toByteArray())) {
                    throw new ArtifactException(
                            "the exported artifact does not load back identically: parameter "
                                    + e.getKey()
                                    + " differs.");
                }
            }
        } catch (ArtifactException e) {
            throw new ArtifactException("the export check failed: " + e.getMessage(), e);
        }
    }

    private static Map<String, NDArray> arrays(Block root) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            for (Pair<String, Parameter> p : n.getBlock().getDirectParameters()) {
                m.put(n.getPath() + "/" + p.getKey(), p.getValue().getArray());
            }
        }
        return m;
    }
}
