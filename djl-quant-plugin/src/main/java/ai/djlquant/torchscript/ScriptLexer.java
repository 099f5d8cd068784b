package ai.djlquant.torchscript;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits TorchScript source text (the {@code code/} files {@code torch.jit.save} writes) into
 * logical lines of tokens: physical lines joined while a bracket is open, each with its
 * indentation and the number of its first physical line.
 *
 * <p>Tokens are names, numbers, strings, and operators; anything else (a tab in the indentation,
 * an unterminated string, a character Python would not accept here) is refused with the file and
 * line.
 */
final class ScriptLexer {

    /** What a token is. */
    enum Kind {
        NAME,
        INT,
        FLOAT,
        STRING,
        OP
    }

    /**
     * One token.
     *
     * @param kind what it is
     * @param text its text (a string's value without quotes)
     * @param line its physical line, 1-based
     */
    record Token(Kind kind, String text, int line) {
        boolean is(String op) {
            return kind == Kind.OP && text.equals(op);
        }

        boolean isName(String name) {
            return kind == Kind.NAME && text.equals(name);
        }
    }

    /**
     * One logical line.
     *
     * @param indent the number of leading spaces of its first physical line
     * @param line the first physical line, 1-based
     * @param tokens its tokens
     */
    record Line(int indent, int line, List<Token> tokens) {}

    private static final String TWO_CHAR_OPS = "->|==|!=|<=|>=|//|**";

    private ScriptLexer() {}

    /**
     * Tokenises a file.
     *
     * @param file the file's name, for messages
     * @param text the file's text
     * @return its logical lines, blank and comment lines left out
     * @throws ScriptSyntaxException if a character or string cannot be read
     */
    static List<Line> lines(String file, String text) throws ScriptSyntaxException {
        List<Line> out = new ArrayList<>();
        String[] physical = text.split("\n", -1);
        List<Token> tokens = new ArrayList<>();
        int depth = 0;
        int indent = 0;
        int start = 0;
        for (int n = 0; n < physical.length; n++) {
            String s = physical[n];
            int lineNo = n + 1;
            int i = 0;
            if (depth == 0) {
                while (i < s.length() && s.charAt(i) == ' ') {
                    i++;
                }
                if (i < s.length() && s.charAt(i) == '\t') {
                    throw new ScriptSyntaxException(file, lineNo, "a tab in the indentation");
                }
                if (i == s.length() || s.charAt(i) == '#') {
                    continue; // blank or comment line
                }
                indent = i;
                start = lineNo;
            }
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\r') {
                    i++;
                } else if (c == '#') {
                    break;
                } else if (Character.isLetter(c) || c == '_') {
                    int j = i;
                    while (j < s.length()
                            && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                        j++;
                    }
                    tokens.add(new Token(Kind.NAME, s.substring(i, j), lineNo));
                    i = j;
                } else if (Character.isDigit(c)
                        || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                    i = number(file, s, i, lineNo, tokens);
                } else if (c == '"' || c == '\'') {
                    i = string(file, s, i, lineNo, tokens);
                } else {
                    String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
                    if (!two.isEmpty() && ("|" + TWO_CHAR_OPS + "|").contains("|" + two + "|")) {
                        tokens.add(new Token(Kind.OP, two, lineNo));
                        i += 2;
                        continue;
                    }
                    if ("()[]{},:.=+-*/%<>@".indexOf(c) < 0) {
                        throw new ScriptSyntaxException(
                                file, lineNo, "the character '" + c + "'");
                    }
                    if (c == '(' || c == '[' || c == '{') {
                        depth++;
                    } else if (c == ')' || c == ']' || c == '}') {
                        depth--;
                        if (depth < 0) {
                            throw new ScriptSyntaxException(file, lineNo, "an unmatched '" + c + "'");
                        }
                    }
                    tokens.add(new Token(Kind.OP, String.valueOf(c), lineNo));
                    i++;
                }
            }
            if (depth == 0 && !tokens.isEmpty()) {
                out.add(new Line(indent, start, List.copyOf(tokens)));
                tokens.clear();
            }
        }
        if (depth != 0) {
            throw new ScriptSyntaxException(file, start, "a bracket that is never closed");
        }
        return out;
    }

    private static int number(String file, String s, int i, int line, List<Token> tokens)
            throws ScriptSyntaxException {
        int j = i;
        boolean isFloat = false;
        while (j < s.length() && Character.isDigit(s.charAt(j))) {
            j++;
        }
        if (j < s.length() && s.charAt(j) == '.') {
            isFloat = true;
            j++;
            while (j < s.length() && Character.isDigit(s.charAt(j))) {
                j++;
            }
        }
        if (j < s.length() && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
            isFloat = true;
            j++;
            if (j < s.length() && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            int digits = j;
            while (j < s.length() && Character.isDigit(s.charAt(j))) {
                j++;
            }
            if (digits == j) {
                throw new ScriptSyntaxException(file, line, "the number " + s.substring(i, j));
            }
        }
        if (j < s.length() && (Character.isLetter(s.charAt(j)) || s.charAt(j) == '_')) {
            throw new ScriptSyntaxException(file, line, "the number " + s.substring(i, j + 1));
        }
        tokens.add(new Token(isFloat ? Kind.FLOAT : Kind.INT, s.substring(i, j), line));
        return j;
    }

    private static int string(String file, String s, int i, int line, List<Token> tokens)
            throws ScriptSyntaxException {
        char quote = s.charAt(i);
        StringBuilder b = new StringBuilder();
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != quote) {
            char c = s.charAt(j);
            if (c == '\\') {
                if (j + 1 >= s.length()) {
                    break;
                }
                char e = s.charAt(j + 1);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case '\\', '\'', '"' -> b.append(e);
                    default -> throw new ScriptSyntaxException(
                            file, line, "the string escape \\" + e);
                }
                j += 2;
            } else {
                b.append(c);
                j++;
            }
        }
        if (j >= s.length()) {
            throw new ScriptSyntaxException(file, line, "a string that is never closed");
        }
        tokens.add(new Token(Kind.STRING, b.toString(), line));
        return j + 1;
    }
}
