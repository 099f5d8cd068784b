package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.util.ClassLoaderUtils;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

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
        return create(name, ClassLoaderUtils.getContextClassLoader(), "");
    }

    /**
     * Creates the factory an artifact names, from what DJL would search for a {@code
     * blockFactory}: the classpath and the artifact's {@code classes/} and jars (which the
     * manifest lists, as it lists every file). Unlike DJL's lookup, only the named class is
     * considered (DJL falls back to any implementation it finds in the directory), and nothing of
     * it runs before it is known to be a public, concrete {@link BlockFactory} with a public
     * no-argument constructor.
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
        return create(
                name, loaderFor(dir), " named in " + ArtifactFormat.SERVING_PROPERTIES_FILE);
    }

    /** The class loader DJL's {@code ClassLoaderUtils.findImplementation} builds for a directory. */
    private static ClassLoader loaderFor(Path dir) throws ArtifactException {
        ClassLoader parent = ClassLoaderUtils.getContextClassLoader();
        List<URL> urls = new ArrayList<>();
        try {
            Path classes = dir.resolve("classes");
            if (Files.isDirectory(classes)) {
                urls.add(classes.toUri().toURL());
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                    if (p.getFileName().toString().endsWith(".jar")) {
                        urls.add(p.toUri().toURL());
                    }
                }
            }
        } catch (IOException e) {
            throw new ArtifactException("the artifact directory " + dir + " cannot be listed: " + e, e);
        }
        return urls.isEmpty() ? parent : new URLClassLoader(urls.toArray(new URL[0]), parent);
    }

    /**
     * Finds the class without initialising it, checks what it is, then creates it: a class that
     * is not a usable factory is refused before any of its code (a static initialiser) runs.
     */
    private static BlockFactory create(String name, ClassLoader loader, String namedIn)
            throws ArtifactException {
        Class<?> c;
        try {
            c = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new ArtifactException(
                    "the block factory " + name + namedIn + " is not on the classpath.", e);
        }
        if (!BlockFactory.class.isAssignableFrom(c)) {
            throw new ArtifactException(
                    "the block factory "
                            + name
                            + namedIn
                            + " is a class on the classpath, but not a BlockFactory.");
        }
        int mod = c.getModifiers();
        if (c.isInterface() || Modifier.isAbstract(mod) || !Modifier.isPublic(mod)) {
            throw new ArtifactException(
                    "the block factory "
                            + name
                            + namedIn
                            + " is not a public concrete class (it cannot be created).");
        }
        Constructor<?> constructor;
        try {
            constructor = c.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new ArtifactException(
                    "the block factory "
                            + name
                            + namedIn
                            + " has no public no-argument constructor.",
                    e);
        }
        try {
            return (BlockFactory) constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw new ArtifactException(
                    "the block factory " + name + " cannot be created: " + e.getCause(), e);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new ArtifactException(
                    "the block factory " + name + " cannot be created: " + e, e);
        }
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
