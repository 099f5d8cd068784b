package ai.djlquant.plan;

import ai.djl.nn.Block;
import ai.djlquant.annotations.Internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The user's word on each layer's mode, before anything is measured. Precedence, highest first:
 * an exclusion by path pattern (the layer is left exactly as it is: not folded, not observed, not
 * quantized), a mode by path pattern (the first matching pattern in the order given), a mode by
 * layer type, the default mode.
 *
 * <p>Immutable; built by {@link #builder()}.
 */
@Internal
public final class ModeRules {

    private final QuantizationMode defaultMode;
    private final Map<Class<? extends Block>, QuantizationMode> byType;
    private final List<PathRule> byPath;
    private final List<PathPattern> excluded;

    private ModeRules(Builder b) {
        defaultMode = b.defaultMode;
        byType = Collections.unmodifiableMap(new LinkedHashMap<>(b.byType));
        byPath = Collections.unmodifiableList(new ArrayList<>(b.byPath));
        excluded = Collections.unmodifiableList(new ArrayList<>(b.excluded));
    }

    /**
     * Creates a builder (default mode {@link QuantizationMode#AUTO}, no overrides).
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the default mode.
     *
     * @return the default mode
     */
    public QuantizationMode getDefaultMode() {
        return defaultMode;
    }

    /**
     * Returns the modes by layer type.
     *
     * @return the modes by type
     */
    public Map<Class<? extends Block>, QuantizationMode> getModesByType() {
        return byType;
    }

    /**
     * Returns the modes by path pattern, in the order they are tried.
     *
     * @return the path rules
     */
    public List<PathRule> getModesByPath() {
        return byPath;
    }

    /**
     * Returns the exclusion patterns.
     *
     * @return the patterns
     */
    public List<PathPattern> getExcluded() {
        return excluded;
    }

    /**
     * Returns whether a layer is excluded.
     *
     * @param path the layer's path
     * @return the pattern that excludes it, or null
     */
    public PathPattern exclusionOf(String path) {
        for (PathPattern p : excluded) {
            if (p.matches(path)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Returns the mode the rules give a layer and which rule gave it.
     *
     * @param path the layer's path
     * @param type the layer's type (the float block's class)
     * @return the choice
     */
    public Choice modeFor(String path, Class<?> type) {
        for (PathRule r : byPath) {
            if (r.pattern().matches(path)) {
                return new Choice(r.mode(), "path pattern '" + r.pattern() + "'");
            }
        }
        QuantizationMode m = byType.get(type);
        if (m != null) {
            return new Choice(m, "layer type " + type.getSimpleName());
        }
        return new Choice(defaultMode, "the default mode");
    }

    /**
     * A mode for the layers whose path matches a pattern.
     *
     * @param pattern the pattern
     * @param mode the mode
     */
    public record PathRule(PathPattern pattern, QuantizationMode mode) {}

    /**
     * A mode and the rule it came from.
     *
     * @param mode the mode
     * @param source the rule the mode came from, for example {@code path pattern '**}{@code
     *     /03Linear'}
     */
    public record Choice(QuantizationMode mode, String source) {}

    /** Builds {@link ModeRules}. */
    public static final class Builder {

        private QuantizationMode defaultMode = QuantizationMode.AUTO;
        private final Map<Class<? extends Block>, QuantizationMode> byType = new LinkedHashMap<>();
        private final List<PathRule> byPath = new ArrayList<>();
        private final List<PathPattern> excluded = new ArrayList<>();

        Builder() {}

        /**
         * Sets the default mode.
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder optDefaultMode(QuantizationMode mode) {
            this.defaultMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Sets the mode of every layer of a type (exact class).
         *
         * @param type the layer type
         * @param mode the mode
         * @return this builder
         */
        public Builder optMode(Class<? extends Block> type, QuantizationMode mode) {
            byType.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(mode, "mode"));
            return this;
        }

        /**
         * Adds a mode for the layers whose path matches a glob ({@link PathPattern}).
         *
         * @param glob the glob
         * @param mode the mode
         * @return this builder
         */
        public Builder optMode(String glob, QuantizationMode mode) {
            byPath.add(new PathRule(PathPattern.of(glob), Objects.requireNonNull(mode, "mode")));
            return this;
        }

        /**
         * Excludes the layers whose path matches a glob.
         *
         * @param glob the glob
         * @return this builder
         */
        public Builder optExclude(String glob) {
            excluded.add(PathPattern.of(glob));
            return this;
        }

        /**
         * Builds the rules.
         *
         * @return the rules
         */
        public ModeRules build() {
            return new ModeRules(this);
        }
    }
}
