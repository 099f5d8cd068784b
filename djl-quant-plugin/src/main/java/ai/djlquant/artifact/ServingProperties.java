package ai.djlquant.artifact;

import ai.djlquant.artifact.ArtifactFormat.Serving;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * An artifact's {@code serving.properties}: what makes DJL's {@code Criteria} call {@link
 * QuantizedBlockFactory} for the directory, the base block factory it builds the float architecture
 * with, and the block factory arguments. Written by the export, read and checked by loading.
 */
final class ServingProperties {

    /** The keys the writer sets itself, which an argument may not take. */
    private static final List<String> WRITER_KEYS =
            List.of(
                    Serving.ENGINE,
                    Serving.BLOCK_FACTORY,
                    Serving.TRANSLATOR_FACTORY,
                    Serving.BASE_BLOCK_FACTORY);

    private ServingProperties() {}

    /**
     * Whether a key is one the writer sets itself (or one of DJL's options).
     *
     * @param key an argument's key
     * @return whether it may not be used as an argument
     */
    static boolean isWriterKey(String key) {
        return key.isEmpty() || key.startsWith(Serving.OPTION_PREFIX) || WRITER_KEYS.contains(key);
    }

    /**
     * The file's text.
     *
     * @param engine the engine name
     * @param baseFactory the base block factory's class name
     * @param translatorFactory the translator factory's class name, or null
     * @param arguments the block factory arguments, in the order to write them
     * @param modelName the model name
     * @return the text, ASCII only
     */
    static String text(
            String engine,
            String baseFactory,
            String translatorFactory,
            Map<String, String> arguments,
            String modelName) {
        StringBuilder sb = new StringBuilder();
        sb.append("# djl-quant artifact: load with Criteria.builder().optModelPath(<this dir>)")
                .append(" or ArtifactLoader.load(<this dir>)\n");
        line(sb, Serving.ENGINE, engine);
        line(sb, Serving.BLOCK_FACTORY, QuantizedBlockFactory.class.getName());
        line(sb, Serving.BASE_BLOCK_FACTORY, baseFactory);
        if (translatorFactory != null) {
            line(sb, Serving.TRANSLATOR_FACTORY, translatorFactory);
        }
        for (Map.Entry<String, String> e : arguments.entrySet()) {
            line(sb, escape(e.getKey(), true), escape(e.getValue(), false));
        }
        line(sb, Serving.OPTION_MODEL_NAME, modelName);
        sb.append("# the block factory loads (and checks) the parameters itself\n");
        line(sb, Serving.OPTION_HAS_PARAMETER, "false");
        return sb.toString();
    }

    private static void line(StringBuilder sb, String key, String value) {
        sb.append(key).append('=').append(value).append('\n');
    }

    /** Escapes text for a properties file (java.util.Properties syntax), ASCII only. */
    private static String escape(String s, boolean key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\'
                    || c == '='
                    || c == ':'
                    || c == '#'
                    || c == '!'
                    || (c == ' ' && (key || i == 0))) {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * Reads an artifact's file (after its checksum was verified) and checks that it names {@link
     * QuantizedBlockFactory} and the base factory the manifest records.
     *
     * @param dir the artifact directory
     * @param m its manifest
     * @return the properties
     * @throws ArtifactException if the file cannot be read or names other factories
     */
    static Properties read(Path dir, ArtifactManifest m) throws ArtifactException {
        Path file = dir.resolve(ArtifactFormat.SERVING_PROPERTIES_FILE);
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new ArtifactException(file + " cannot be read: " + e.getMessage(), e);
        }
        String factory = p.getProperty(Serving.BLOCK_FACTORY);
        if (!QuantizedBlockFactory.class.getName().equals(factory)) {
            throw new ArtifactException(
                    file
                            + " names "
                            + Serving.BLOCK_FACTORY
                            + "="
                            + factory
                            + "; an artifact names "
                            + QuantizedBlockFactory.class.getName()
                            + ".");
        }
        String base = p.getProperty(Serving.BASE_BLOCK_FACTORY);
        if (!m.getBaseBlockFactory().equals(base)) {
            throw new ArtifactException(
                    file
                            + " names "
                            + Serving.BASE_BLOCK_FACTORY
                            + "="
                            + base
                            + " but "
                            + ArtifactFormat.MANIFEST_FILE
                            + " records "
                            + m.getBaseBlockFactory()
                            + ".");
        }
        return p;
    }

    /**
     * The block factory arguments: every key but DJL's options.
     *
     * @param p the properties
     * @return key to value
     */
    static Map<String, Object> arguments(Properties p) {
        Map<String, Object> arguments = new HashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (!key.startsWith(Serving.OPTION_PREFIX)) {
                arguments.put(key, p.getProperty(key));
            }
        }
        return arguments;
    }
}
