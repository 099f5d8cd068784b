package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A glob over layer paths ({@code 02SequentialBlock/01Conv2d}): {@code *} matches within one path
 * segment, {@code **} across segments, {@code ?} one character other than {@code /}; everything
 * else matches itself. A pattern matches the whole path.
 *
 * <p>Examples: {@code **}{@code /01Conv2d} (every first Conv2d), {@code 05transformer_0/**}
 * (everything under one encoder), {@code **Linear} (every layer whose key ends in Linear).
 */
@Internal
public final class PathPattern {

    private final String glob;
    private final Pattern regex;

    private PathPattern(String glob, Pattern regex) {
        this.glob = glob;
        this.regex = regex;
    }

    /**
     * Compiles a glob.
     *
     * @param glob the glob
     * @return the pattern
     * @throws IllegalArgumentException if the glob is empty
     */
    public static PathPattern of(String glob) {
        Objects.requireNonNull(glob, "glob");
        if (glob.isEmpty()) {
            throw new IllegalArgumentException("a path pattern must not be empty.");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    sb.append(".*");
                    i++;
                } else {
                    sb.append("[^/]*");
                }
            } else if (c == '?') {
                sb.append("[^/]");
            } else {
                sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        try {
            return new PathPattern(glob, Pattern.compile(sb.toString()));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("path pattern '" + glob + "' is invalid.", e);
        }
    }

    /**
     * Returns whether the pattern matches a whole path.
     *
     * @param path the layer path
     * @return whether it matches
     */
    public boolean matches(String path) {
        return regex.matcher(path).matches();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return glob;
    }
}
