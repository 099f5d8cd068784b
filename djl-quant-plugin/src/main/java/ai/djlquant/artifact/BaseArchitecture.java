package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.util.ClassLoaderUtils;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The base block factory an artifact names: the one that builds the model's float architecture,
 * which the export compares the quantized tree with and loading rewrites again. Both sides create
 * it and call it here, so that a missing or failing factory reads the same either way.
 */
final class BaseArchitecture {

    private BaseArchitecture() {}

    /**
     * Creates the factory at export, from the classpath.
     *
     * @param name the factory's class name
     * @return the factory
     * @throws ArtifactException if it cannot be found or created
     */
    static BlockFactory forExport(String name) throws ArtifactException {
        return check(
                name,
                () ->
                        ClassLoaderUtils.initClass(
                                ClassLoaderUtils.getContextClassLoader(), BlockFactory.class, name),
                "");
    }

    /**
     * Creates the factory an artifact names, as DJL finds a {@code blockFactory}: on the classpath
     * or in the artifact's {@code classes/} and jars.
     *
     * @param dir the artifact directory
     * @param name the factory's class name
     * @return the factory
     * @throws ArtifactException if it is this package's own factory, or cannot be found or created
     */
    static BlockFactory forArtifact(Path dir, String name) throws ArtifactException {
        if (name.equals(QuantizedBlockFactory.class.getName())) {
            throw new ArtifactException(
                    ArtifactFormat.MANIFEST_FILE
                            + " names "
                            + name
                            + " as its own base block factory.");
        }
        return check(
                name,
                () -> ClassLoaderUtils.findImplementation(dir, BlockFactory.class, name),
                " named in " + ArtifactFormat.SERVING_PROPERTIES_FILE);
    }

    private static BlockFactory check(String name, Supplier<BlockFactory> lookup, String namedIn)
            throws ArtifactException {
        BlockFactory factory;
        try {
            factory = lookup.get();
        } catch (RuntimeException | LinkageError e) {
            throw new ArtifactException(
                    "the block factory " + name + " cannot be created: " + e, e);
        }
        if (factory == null) {
            throw new ArtifactException(
                    "the block factory "
                            + name
                            + namedIn
                            + " is not on the classpath (or is not a public BlockFactory with a"
                            + " public no-argument constructor).");
        }
        return factory;
    }

    /**
     * Builds the float architecture.
     *
     * @param factory the factory
     * @param name its class name, for messages
     * @param model the model the block is for
     * @param path the model directory handed to the factory
     * @param arguments the block factory arguments
     * @return the root block, not initialised
     * @throws ArtifactException if the factory fails or builds nothing
     */
    static Block build(
            BlockFactory factory, String name, Model model, Path path, Map<String, ?> arguments)
            throws ArtifactException {
        Block base;
        try {
            base = factory.newBlock(model, path, arguments);
        } catch (Exception e) {
            throw new ArtifactException(
                    "the block factory " + name + " failed to build the architecture: " + e, e);
        }
        if (base == null) {
            throw new ArtifactException("the block factory " + name + " built no block (null).");
        }
        return base;
    }
}
