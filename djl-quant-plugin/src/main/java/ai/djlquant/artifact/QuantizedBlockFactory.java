package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;

import java.nio.file.Path;
import java.util.Map;

/**
 * The {@link BlockFactory} an artifact's {@code serving.properties} names, so that DJL's ordinary
 * {@code Criteria.builder().optModelPath(dir)} loads a quantized model.
 *
 * <p>DJL calls {@link #newBlock} with the artifact directory. It verifies the artifact (manifest,
 * checksums, {@code serving.properties}), builds the float architecture with the block factory the
 * artifact names as {@value ArtifactFormat.Serving#BASE_BLOCK_FACTORY} (the user's own, or a reference
 * model's), puts empty int8 blocks and pass-throughs at the recorded places, and loads the
 * parameter file into that tree (see {@link ArtifactLoader}). The artifact's {@code
 * serving.properties} sets {@code option.hasParameter=false}, so DJL does not load the file a
 * second time. Any problem is thrown as an {@link ArtifactException}, which {@code
 * Criteria.loadModel()} passes on.
 */
public class QuantizedBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** Creates the factory (DJL instantiates it by its class name). */
    public QuantizedBlockFactory() {}

    /**
     * Builds the quantized block of an artifact, with its parameters loaded.
     *
     * @param model the model DJL is loading
     * @param modelPath the artifact directory
     * @param arguments {@code serving.properties} and Criteria arguments (handed on to the base
     *     block factory)
     * @return the loaded block
     * @throws ArtifactException if the artifact is not valid (nothing is loaded)
     */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments)
            throws ArtifactException {
        // DJL passes the nested directory (the link current): pin its generation for every read
        return ArtifactLayout.readCurrent(
                modelPath,
                dir -> ArtifactLoader.rebuild(model, dir, ArtifactLoader.verify(dir), arguments));
    }
}
