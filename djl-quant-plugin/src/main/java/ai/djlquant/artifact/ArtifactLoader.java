package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockRewriter;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ChainTargets;
import ai.djlquant.transform.Replacement;
import ai.djlquant.transform.RewriteLog;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Loads a quantized model artifact, checking everything before anything is used.
 *
 * <p>Two ways in, one path through:
 *
 * <ul>
 *   <li>DJL's {@code Criteria.builder().optModelPath(dir)}: the artifact's {@code
 *       serving.properties} names {@link QuantizedBlockFactory}, which DJL calls to build the
 *       block; it loads the parameters itself and tells DJL to skip its own loading ({@code
 *       option.hasParameter=false}).
 *   <li>{@link #load(Path)}, without Criteria.
 * </ul>
 *
 * <p>Checks, in order, each failing with one {@link ArtifactException} that names what and where:
 * the directory and {@code quantization.json} (present, valid JSON, a known format version not
 * newer than this library's, every field it uses); every file it lists (present, size, SHA-256);
 * {@code serving.properties} (names this factory and the recorded base factory); the base factory
 * (on the classpath, builds the recorded architecture, the recorded rewrites fit it); the parameter
 * file (reads completely into the rebuilt tree with nothing left over, every parameter of the
 * recorded type and shape, every int8 layer with the recorded quantization parameters); the
 * loaded values themselves ({@code LoadedValues}: what the kernels assume, since whoever edits a
 * file can recompute its checksum). On failure
 * the parameters read so far are freed and no block is handed out.
 */
public final class ArtifactLoader {

    /**
     * The {@code serving.properties} key of the block factory of the float architecture ({@link
     * ArtifactFormat.Serving#BASE_BLOCK_FACTORY}).
     */
    public static final String BASE_BLOCK_FACTORY = ArtifactFormat.Serving.BASE_BLOCK_FACTORY;

    private ArtifactLoader() {}

    /**
     * Loads an artifact as a model on the engine it was written for (PyTorch).
     *
     * @param dir the artifact directory
     * @return the model, ready for {@code newPredictor(translator)}; the caller closes it
     * @throws ArtifactException if the artifact is not valid (nothing is loaded)
     */
    public static Model load(Path dir) throws ArtifactException {
        return load(dir, null);
    }

    /**
     * Loads an artifact only if its manifest carries a valid Ed25519 signature by the trusted key
     * ({@link ArtifactSigning}): an unsigned or wrongly signed artifact is refused before anything
     * else is read.
     *
     * @param artifact the artifact directory
     * @param trusted the trusted public key, or null to load without a signature check
     * @return the model, ready for {@code newPredictor(translator)}; the caller closes it
     * @throws ArtifactException if the artifact is not valid or not signed by the key
     */
    public static Model load(Path artifact, PublicKey trusted) throws ArtifactException {
        // one generation throughout, even if an overwrite swaps it meanwhile
        return ArtifactLayout.readCurrent(
                Objects.requireNonNull(artifact, "dir"), dir -> loadFiles(dir, trusted));
    }

    private static Model loadFiles(Path dir, PublicKey trusted) throws ArtifactException {
        ArtifactManifest m = verifyFiles(dir, trusted);
        Map<String, Object> arguments =
                ServingProperties.arguments(ServingProperties.read(dir, m));
        Model model;
        try {
            model = Model.newInstance(m.getModelName(), m.getEngine());
        } catch (RuntimeException e) {
            throw new ArtifactException(
                    "the engine " + m.getEngine() + " of " + dir + " cannot be started: " + e, e);
        }
        try {
            Block block = rebuild(model, dir, m, arguments);
            model.setBlock(block);
            for (Map.Entry<String, Object> e : arguments.entrySet()) {
                model.setProperty(e.getKey(), e.getValue().toString());
            }
            return model;
        } catch (ArtifactException | RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    /**
     * Returns the directory that holds an artifact's files. An artifact directory written by this
     * version holds a link {@code current} to its files' generation (which makes overwriting it
     * atomic; the layout is described in the architecture document), so its files are under
     * {@code dir/current/}; an artifact written before holds them itself.
     *
     * @param dir the artifact directory (or the generation directory itself)
     * @return the directory of {@code quantization.json}, {@code serving.properties} and the rest
     * @throws ArtifactException if {@code current} is not a link to a generation beside it
     */
    public static Path filesDirectory(Path dir) throws ArtifactException {
        return ArtifactLayout.filesOf(dir);
    }

    /**
     * Checks an artifact without loading it: its manifest, the checksums and sizes of its files,
     * and its {@code serving.properties}. The engine is not needed.
     *
     * @param dir the artifact directory
     * @return the manifest
     * @throws ArtifactException naming the first problem
     */
    public static ArtifactManifest verify(Path dir) throws ArtifactException {
        return verify(dir, null);
    }

    /**
     * Checks an artifact without loading it, as {@link #verify(Path)}, after checking that its
     * manifest is signed by the trusted key.
     *
     * @param artifact the artifact directory
     * @param trusted the trusted Ed25519 public key, or null for no signature check
     * @return the manifest
     * @throws ArtifactException naming the first problem (an unsigned or wrongly signed artifact
     *     first of all)
     */
    public static ArtifactManifest verify(Path artifact, PublicKey trusted)
            throws ArtifactException {
        return ArtifactLayout.readCurrent(
                Objects.requireNonNull(artifact, "dir"), dir -> verifyFiles(dir, trusted));
    }

    private static ArtifactManifest verifyFiles(Path dir, PublicKey trusted)
            throws ArtifactException {
        ArtifactManifest m = ManifestReader.read(dir, trusted);
        m.verifyFiles(dir);
        ServingProperties.read(dir, m);
        return m;
    }

    /**
     * Builds the quantized tree of a verified artifact and loads its parameters.
     *
     * @param model the model the block is for (the parameters go into a sub-manager of its manager,
     *     freed on failure)
     * @param dir the artifact directory
     * @param m its verified manifest
     * @param arguments the block factory arguments ({@code serving.properties} and Criteria's)
     * @return the loaded root block
     * @throws ArtifactException if the base factory, the rewrites or the parameters do not fit
     */
    static Block rebuild(Model model, Path dir, ArtifactManifest m, Map<String, ?> arguments)
            throws ArtifactException {
        String name = m.getBaseBlockFactory();
        BlockFactory factory = BaseArchitecture.forArtifact(dir, name);
        Block base = BaseArchitecture.build(factory, name, model, dir, arguments);
        NDManager params = model.getNDManager().newSubManager();
        params.setName("djl-quant artifact " + m.getModelName());
        try {
            Block root = TreeRewrites.apply(model, base, m.rewrites(), name);
            TreeRewrites.check(root, m.architecture(), name);
            ParamsFile.load(
                    dir.resolve(m.getParametersFile()), m.getModelName(), root, params, name);
            checkLoaded(root, m, m.getParametersFile());
            LoadedValues.check(root, m.getParametersFile());
            return formChains(model, root, m.int8Chains());
        } catch (ArtifactException | RuntimeException | Error e) {
            params.close();
            model.setBlock(null);
            throw e;
        }
    }

    /**
     * Forms again the int8 chains the exported model ran, once its layers are loaded, and checks
     * that they are the ones the manifest names (the same layers, the same runs).
     */
    private static Block formChains(Model model, Block root, List<String> recorded)
            throws ArtifactException {
        if (recorded.isEmpty()) {
            return root;
        }
        // only the recorded chains: an artifact written before a kind of chain existed loads with
        // the chains it ran, though its layers may form more now
        Set<String> wanted = new HashSet<>(recorded);
        List<ChainTargets.Target> targets = new ArrayList<>();
        for (ChainTargets.Target t : ChainTargets.find(BlockTree.walk(root))) {
            ChainTargets.Target kept = t.only(wanted);
            if (kept != null) {
                targets.add(kept);
            }
        }
        List<String> found = ChainTargets.names(targets);
        if (!found.equals(recorded)) {
            throw new ArtifactException(
                    ArtifactFormat.MANIFEST_FILE
                            + " records the int8 chains "
                            + recorded
                            + ", but the loaded layers form "
                            + (found.isEmpty() ? "none of them" : "only " + found)
                            + ".");
        }
        List<Replacement> replacements = ChainTargets.replacements(targets);
        try {
            new BlockRewriter(model)
                    .applyInTurn(() -> BlockTree.walk(model.getBlock()), replacements, new RewriteLog());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ArtifactException(
                    "the int8 chains " + recorded + " cannot be formed: " + e.getMessage(), e);
        }
        return model.getBlock();
    }

    /** Everything the parameter file gave must be what the manifest recorded. */
    private static void checkLoaded(Block root, ArtifactManifest m, String file)
            throws ArtifactException {
        Map<String, String> loaded = ParamsFile.describeParameters(root);
        for (Map.Entry<String, String> e : m.parameters().entrySet()) {
            String got = loaded.get(e.getKey());
            if (!e.getValue().equals(got)) {
                throw new ArtifactException(
                        file
                                + " gives parameter "
                                + e.getKey()
                                + " as "
                                + (got == null ? "nothing" : got)
                                + ", but the artifact records "
                                + e.getValue()
                                + ".");
            }
        }
        if (loaded.size() != m.parameters().size()) {
            throw new ArtifactException(
                    file
                            + " gives "
                            + loaded.size()
                            + " parameters, the artifact records "
                            + m.parameters().size()
                            + ".");
        }
        BlockTree tree = BlockTree.walk(root);
        int int8 = 0;
        for (BlockNode n : tree.getNodes()) {
            if (LayerRecord.isInt8(n.getBlock())) {
                int8++;
            }
        }
        if (int8 != m.layers().size()) {
            throw new ArtifactException(
                    "the loaded tree has "
                            + int8
                            + " int8 layers, "
                            + ArtifactFormat.MANIFEST_FILE
                            + " records "
                            + m.layers().size()
                            + ".");
        }
        for (LayerRecord r : m.layers()) {
            BlockNode n = tree.find(r.path());
            if (n == null || !LayerRecord.isInt8(n.getBlock())) {
                throw new ArtifactException(
                        ArtifactFormat.MANIFEST_FILE
                                + " records an int8 layer at "
                                + TreeRewrites.display(r.path())
                                + ", but the loaded tree has "
                                + (n == null ? "no block" : "a " + n.getType())
                                + " there.");
            }
            String diff = r.differenceFrom(LayerRecord.of(r.path(), n.getBlock()));
            if (diff != null) {
                throw new ArtifactException(
                        "layer "
                                + TreeRewrites.display(r.path())
                                + " in "
                                + file
                                + ": "
                                + diff
                                + ".");
            }
        }
        if (!root.isInitialized()) {
            throw new ArtifactException(
                    file
                            + " left part of the tree without input shapes: it does not fit the"
                            + " architecture.");
        }
    }
}
