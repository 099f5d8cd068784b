package ai.djlquant.torchscript;

import ai.djlquant.torchscript.ScriptExpr.Attribute;
import ai.djlquant.torchscript.ScriptExpr.Call;
import ai.djlquant.torchscript.ScriptExpr.Keyword;
import ai.djlquant.torchscript.ScriptExpr.ListExpr;
import ai.djlquant.torchscript.ScriptExpr.Literal;
import ai.djlquant.torchscript.ScriptExpr.Name;
import ai.djlquant.torchscript.ScriptExpr.Negate;
import ai.djlquant.torchscript.ScriptExpr.Subscript;
import ai.djlquant.torchscript.ScriptExpr.TupleExpr;
import ai.djlquant.torchscript.ScriptLexer.Kind;
import ai.djlquant.torchscript.ScriptLexer.Line;
import ai.djlquant.torchscript.ScriptLexer.Token;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict parser for the TorchScript that {@code torch.jit.trace} + {@code torch.jit.save} (torch
 * 1.13) write for modules: {@code class X(Module):} with {@code __parameters__}/{@code
 * __buffers__} lists, attribute annotations and {@code def} methods whose bodies are assignments
 * (with tuple unpacking) and a return, over calls, attribute reads, literals, lists, tuples,
 * subscripts and unary minus.
 *
 * <p>Three spellings are rewritten while parsing, so that later stages see one form each: {@code
 * getattr(self, "0")} becomes the attribute {@code self.0}, {@code annotate(T, v)} becomes {@code
 * v} (a type annotation with no effect on values), and {@code float("inf")}/{@code
 * float("nan")} become float literals (torch prints non-finite constants that way).
 *
 * <p>Anything else (control flow, lambdas, binary operators, imports, other class bodies) is
 * refused with a {@link ScriptSyntaxException} naming the construct, the file and the line.
 */
final class ScriptParser {

    private static final Set<String> STATEMENT_KEYWORDS =
            Set.of("if", "elif", "else", "while", "for", "with", "try", "except", "finally",
                    "raise", "assert", "def", "class", "import", "from", "pass", "break",
                    "continue", "global", "nonlocal", "del", "yield", "async", "await");

    private static final Set<String> EXPRESSION_KEYWORDS =
            Set.of("lambda", "if", "else", "not", "and", "or", "in", "is", "for", "yield",
                    "await");

    private final String file;
    private final List<Line> lines;
    private int next;

    private ScriptParser(String file, List<Line> lines) {
        this.file = file;
        this.lines = lines;
    }

    /**
     * Parses one {@code code/} file.
     *
     * @param file the path relative to {@code code/}, {@code __torch__/torchvision/models/resnet.py}
     * @param text the file's text
     * @return its classes, in source order
     * @throws ScriptSyntaxException at the first construct outside the subset
     */
    static List<ScriptClass> parse(String file, String text) throws ScriptSyntaxException {
        ScriptParser p = new ScriptParser(file, ScriptLexer.lines(file, text));
        List<ScriptClass> classes = new ArrayList<>();
        while (p.next < p.lines.size()) {
            classes.add(p.parseClass());
        }
        return classes;
    }

    /** The module name of a file: {@code __torch__/a/b.py} is {@code __torch__.a.b}. */
    static String moduleName(String file) {
        String f = file.endsWith(".py") ? file.substring(0, file.length() - 3) : file;
        return f.replace('/', '.');
    }

    private ScriptClass parseClass() throws ScriptSyntaxException {
        Line header = lines.get(next++);
        List<Token> t = header.tokens();
        if (header.indent() != 0
                || t.size() != 6
                || !t.get(0).isName("class")
                || t.get(1).kind() != Kind.NAME
                || !t.get(2).is("(")
                || !t.get(4).is(")")
                || !t.get(5).is(":")) {
            throw refuse(header, t.isEmpty() ? "an empty line" : describeStart(t));
        }
        if (!t.get(3).isName("Module")) {
            throw new ScriptSyntaxException(
                    file, header.line(), "a class derived from " + t.get(3).text()
                            + " (only Module classes are read)");
        }
        String name = moduleName(file) + "." + t.get(1).text();
        List<String> parameters = new ArrayList<>();
        List<String> buffers = new ArrayList<>();
        Map<String, String> attributes = new LinkedHashMap<>();
        Map<String, ScriptMethod> methods = new LinkedHashMap<>();
        while (next < lines.size() && lines.get(next).indent() > 0) {
            Line l = lines.get(next);
            List<Token> b = l.tokens();
            if (b.get(0).isName("def")) {
                ScriptMethod m = parseMethod(l.indent());
                if (methods.put(m.name(), m) != null) {
                    throw refuse(l, "a second definition of " + m.name());
                }
                continue;
            }
            next++;
            if (b.size() >= 3 && b.get(0).kind() == Kind.NAME && b.get(1).is("=")
                    && (b.get(0).text().equals("__parameters__")
                            || b.get(0).text().equals("__buffers__"))) {
                List<String> names =
                        b.get(0).text().equals("__parameters__") ? parameters : buffers;
                names.addAll(stringList(l, b.subList(2, b.size())));
            } else if (b.size() >= 3 && b.get(0).kind() == Kind.NAME && b.get(1).is(":")) {
                attributes.put(b.get(0).text(), typeText(b.subList(2, b.size())));
            } else if (b.size() >= 6 && b.get(0).isName("__annotations__") && b.get(1).is("[")
                    && b.get(2).kind() == Kind.STRING && b.get(3).is("]") && b.get(4).is("=")) {
                attributes.put(b.get(2).text(), typeText(b.subList(5, b.size())));
            } else {
                throw refuse(l, "the class-body line " + describeStart(b));
            }
        }
        return new ScriptClass(
                name,
                List.copyOf(parameters),
                List.copyOf(buffers),
                attributes,
                methods,
                file,
                header.line());
    }

    private List<String> stringList(Line l, List<Token> t) throws ScriptSyntaxException {
        List<String> out = new ArrayList<>();
        if (!t.get(0).is("[") || !t.get(t.size() - 1).is("]")) {
            throw refuse(l, "a " + t.get(0).text() + " that is not a list of names");
        }
        for (int i = 1; i < t.size() - 1; i++) {
            Token s = t.get(i);
            if (s.kind() == Kind.STRING) {
                out.add(s.text());
            } else if (!s.is(",")) {
                throw refuse(l, "a parameter list holding " + s.text());
            }
        }
        return out;
    }

    private static String typeText(List<Token> t) {
        StringBuilder b = new StringBuilder();
        for (Token x : t) {
            b.append(x.text());
        }
        return b.toString();
    }

    private ScriptMethod parseMethod(int classIndent) throws ScriptSyntaxException {
        Line def = lines.get(next++);
        List<Token> t = def.tokens();
        if (t.size() < 5 || t.get(1).kind() != Kind.NAME || !t.get(2).is("(")
                || !t.get(t.size() - 1).is(":")) {
            throw refuse(def, "a def that is not 'def name(self, ...):'");
        }
        String name = t.get(1).text();
        List<String> params = new ArrayList<>();
        int i = 3;
        int depth = 0;
        boolean expectName = true;
        for (; i < t.size(); i++) {
            Token x = t.get(i);
            if (depth == 0 && x.is(")")) {
                break;
            }
            if (x.is("(") || x.is("[")) {
                depth++;
            } else if (x.is(")") || x.is("]")) {
                depth--;
            } else if (depth == 0 && x.is(",")) {
                expectName = true;
                continue;
            } else if (depth == 0 && (x.is("=") || x.is("*") || x.is("**"))) {
                throw refuse(def, "a parameter with a default or star in " + name);
            }
            if (expectName) {
                if (x.kind() != Kind.NAME) {
                    throw refuse(def, "the parameter " + x.text() + " of " + name);
                }
                params.add(x.text());
                expectName = false;
            }
        }
        if (params.isEmpty() || !params.get(0).equals("self")) {
            throw refuse(def, "a method " + name + " whose first parameter is not self");
        }
        List<ScriptStatement> body = new ArrayList<>();
        while (next < lines.size() && lines.get(next).indent() > classIndent) {
            body.add(parseStatement(lines.get(next++)));
        }
        if (body.isEmpty()) {
            throw refuse(def, "a method " + name + " with no body");
        }
        return new ScriptMethod(name, List.copyOf(params.subList(1, params.size())),
                List.copyOf(body), file, def.line());
    }

    private ScriptStatement parseStatement(Line l) throws ScriptSyntaxException {
        List<Token> t = l.tokens();
        Token first = t.get(0);
        if (first.kind() == Kind.NAME && STATEMENT_KEYWORDS.contains(first.text())) {
            throw refuse(l, "the '" + first.text() + "' statement");
        }
        if (first.isName("return")) {
            if (t.size() == 1) {
                return new ScriptStatement.Return(new Literal(null, l.line()), l.line());
            }
            return new ScriptStatement.Return(expression(l, t.subList(1, t.size())), l.line());
        }
        int eq = -1;
        int depth = 0;
        for (int i = 0; i < t.size(); i++) {
            Token x = t.get(i);
            if (x.is("(") || x.is("[") || x.is("{")) {
                depth++;
            } else if (x.is(")") || x.is("]") || x.is("}")) {
                depth--;
            } else if (depth == 0 && x.is("=")) {
                eq = i;
                break;
            }
        }
        if (eq < 0) {
            throw refuse(l, "an expression statement");
        }
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < eq; i++) {
            Token x = t.get(i);
            if (i % 2 == 0 && x.kind() == Kind.NAME && !EXPRESSION_KEYWORDS.contains(x.text())) {
                targets.add(x.text());
            } else if (i % 2 == 1 && x.is(",")) {
                continue;
            } else {
                throw refuse(l, "an assignment to something other than names");
            }
        }
        if (targets.isEmpty()) {
            throw refuse(l, "an assignment with no target");
        }
        return new ScriptStatement.Assign(
                List.copyOf(targets), expression(l, t.subList(eq + 1, t.size())), l.line());
    }

    private ScriptExpr expression(Line l, List<Token> t) throws ScriptSyntaxException {
        Cursor c = new Cursor(l, t);
        ScriptExpr e = c.expressionOrTuple();
        if (c.pos != t.size()) {
            throw refuse(l, describeOperator(t.get(c.pos)));
        }
        return e;
    }

    private ScriptSyntaxException refuse(Line l, String what) {
        return new ScriptSyntaxException(file, l.line(), what);
    }

    private static String describeStart(List<Token> t) {
        return "'" + t.get(0).text() + (t.size() > 1 ? " " + t.get(1).text() : "") + " ...'";
    }

    private static String describeOperator(Token t) {
        if (t.kind() == Kind.OP && "+-*/%@<>==!=<=>=//**".contains(t.text())) {
            return "the binary operator '" + t.text() + "'";
        }
        if (t.kind() == Kind.NAME && EXPRESSION_KEYWORDS.contains(t.text())) {
            return "the keyword '" + t.text() + "'";
        }
        return "the token '" + t.text() + "'";
    }

    /** Reads one logical line's expression, recursively. */
    private final class Cursor {
        private final Line line;
        private final List<Token> t;
        private int pos;

        Cursor(Line line, List<Token> t) {
            this.line = line;
            this.t = t;
        }

        private Token peek() throws ScriptSyntaxException {
            if (pos >= t.size()) {
                throw refuse(line, "an expression that ends early");
            }
            return t.get(pos);
        }

        private boolean at(String op) {
            return pos < t.size() && t.get(pos).is(op);
        }

        private void expect(String op) throws ScriptSyntaxException {
            if (!at(op)) {
                throw refuse(line, pos < t.size()
                        ? describeOperator(t.get(pos)) + " where '" + op + "' was expected"
                        : "an expression missing '" + op + "'");
            }
            pos++;
        }

        ScriptExpr expressionOrTuple() throws ScriptSyntaxException {
            int l = peek().line();
            ScriptExpr first = expression();
            if (!at(",")) {
                return first;
            }
            List<ScriptExpr> items = new ArrayList<>();
            items.add(first);
            while (at(",")) {
                pos++;
                if (pos == t.size() || at(")") || at("]")) {
                    break;
                }
                items.add(expression());
            }
            return new TupleExpr(List.copyOf(items), l);
        }

        ScriptExpr expression() throws ScriptSyntaxException {
            Token x = peek();
            if (x.is("-")) {
                pos++;
                ScriptExpr operand = expression();
                if (operand instanceof Literal lit && lit.value() instanceof Long v) {
                    return new Literal(-v, x.line());
                }
                if (operand instanceof Literal lit && lit.value() instanceof Double v) {
                    return new Literal(-v, x.line());
                }
                return new Negate(operand, x.line());
            }
            ScriptExpr e = primary();
            while (pos < t.size()) {
                Token y = t.get(pos);
                if (y.is(".")) {
                    pos++;
                    Token n = peek();
                    if (n.kind() != Kind.NAME) {
                        throw refuse(line, "an attribute that is not a name");
                    }
                    pos++;
                    e = new Attribute(e, n.text(), n.line());
                } else if (y.is("(")) {
                    pos++;
                    e = call(e, y.line());
                } else if (y.is("[")) {
                    pos++;
                    ScriptExpr index = expressionOrTuple();
                    expect("]");
                    e = new Subscript(e, index, y.line());
                } else {
                    break;
                }
            }
            return e;
        }

        private ScriptExpr call(ScriptExpr function, int l) throws ScriptSyntaxException {
            List<ScriptExpr> args = new ArrayList<>();
            List<Keyword> keywords = new ArrayList<>();
            while (!at(")")) {
                if (pos + 1 < t.size() && t.get(pos).kind() == Kind.NAME && t.get(pos + 1).is("=")) {
                    String k = t.get(pos).text();
                    pos += 2;
                    keywords.add(new Keyword(k, expression()));
                } else if (!keywords.isEmpty()) {
                    throw refuse(line, "a positional argument after a keyword argument");
                } else {
                    args.add(expression());
                }
                if (!at(")")) {
                    expect(",");
                }
            }
            pos++;
            String name = ScriptExpr.dotted(function);
            if ("getattr".equals(name)) {
                if (args.size() == 2 && keywords.isEmpty()
                        && args.get(1) instanceof Literal lit && lit.value() instanceof String s) {
                    return new Attribute(args.get(0), s, l);
                }
                throw refuse(line, "a getattr that is not getattr(object, \"name\")");
            }
            if ("annotate".equals(name)) {
                if (args.size() == 2 && keywords.isEmpty()) {
                    return args.get(1);
                }
                throw refuse(line, "an annotate that is not annotate(type, value)");
            }
            if ("float".equals(name) && args.size() == 1
                    && args.get(0) instanceof Literal lit && lit.value() instanceof String s) {
                switch (s) {
                    case "inf":
                        return new Literal(Double.POSITIVE_INFINITY, l);
                    case "-inf":
                        return new Literal(Double.NEGATIVE_INFINITY, l);
                    case "nan":
                        return new Literal(Double.NaN, l);
                    default:
                        throw refuse(line, "float(\"" + s + "\")");
                }
            }
            return new Call(function, List.copyOf(args), List.copyOf(keywords), l);
        }

        private ScriptExpr primary() throws ScriptSyntaxException {
            Token x = peek();
            pos++;
            switch (x.kind()) {
                case INT:
                    try {
                        return new Literal(Long.parseLong(x.text()), x.line());
                    } catch (NumberFormatException e) {
                        throw refuse(line, "the integer " + x.text() + " (beyond 64 bits)");
                    }
                case FLOAT:
                    return new Literal(Double.parseDouble(x.text()), x.line());
                case STRING:
                    return new Literal(x.text(), x.line());
                case NAME:
                    switch (x.text()) {
                        case "True":
                            return new Literal(Boolean.TRUE, x.line());
                        case "False":
                            return new Literal(Boolean.FALSE, x.line());
                        case "None":
                            return new Literal(null, x.line());
                        default:
                            if (EXPRESSION_KEYWORDS.contains(x.text())
                                    || STATEMENT_KEYWORDS.contains(x.text())) {
                                throw refuse(line, "the keyword '" + x.text() + "'"
                                        + (x.text().equals("lambda") ? " (a lambda)" : ""));
                            }
                            return new Name(x.text(), x.line());
                    }
                default:
                    break;
            }
            if (x.is("(")) {
                if (at(")")) {
                    pos++;
                    return new TupleExpr(List.of(), x.line());
                }
                ScriptExpr inner = expression();
                if (at(")")) {
                    pos++;
                    return inner;
                }
                List<ScriptExpr> items = new ArrayList<>();
                items.add(inner);
                while (at(",")) {
                    pos++;
                    if (at(")")) {
                        break;
                    }
                    items.add(expression());
                }
                expect(")");
                return new TupleExpr(List.copyOf(items), x.line());
            }
            if (x.is("[")) {
                List<ScriptExpr> items = new ArrayList<>();
                while (!at("]")) {
                    items.add(expression());
                    if (!at("]")) {
                        expect(",");
                    }
                }
                pos++;
                return new ListExpr(List.copyOf(items), x.line());
            }
            if (x.is("{")) {
                throw refuse(line, "a dict or set literal");
            }
            throw refuse(line, describeOperator(x) + " where a value was expected");
        }
    }
}
