package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * The evaluated arguments of one op call, read by position or keyword as the aten signature
 * names them.
 */
final class OpCall {

    private final String name;
    private final List<Object> args;
    private final List<String> keywords;
    private final List<Object> keywordValues;
    private final NDManager manager;
    private final String at;

    OpCall(
            String name,
            List<Object> args,
            List<String> keywords,
            List<Object> keywordValues,
            NDManager manager,
            String at) {
        this.name = name;
        this.args = args;
        this.keywords = keywords;
        this.keywordValues = keywordValues;
        this.manager = manager;
        this.at = at;
    }

    /**
     * The manager the op's new arrays belong to: the one of the forward's inputs.
     *
     * @return the manager
     */
    NDManager manager() {
        return manager;
    }

    /**
     * The argument at a position, or of a keyword, or a default.
     *
     * @param index the position
     * @param keyword the aten name of the argument
     * @param otherwise the default when it is not given
     * @return the value
     */
    Object get(int index, String keyword, Object otherwise) {
        if (index < args.size()) {
            return args.get(index);
        }
        int k = keywords.indexOf(keyword);
        return k >= 0 ? keywordValues.get(k) : otherwise;
    }

    /**
     * A required argument.
     *
     * @param index the position
     * @param keyword the aten name
     * @return the value
     */
    Object get(int index, String keyword) {
        if (index >= args.size() && !keywords.contains(keyword)) {
            throw fail("argument " + keyword + " is missing");
        }
        return get(index, keyword, null);
    }

    NDArray tensor(int index, String keyword) {
        Object v = get(index, keyword);
        if (v instanceof NDArray a) {
            return a;
        }
        throw fail("argument " + keyword + " is " + describe(v) + ", not a tensor");
    }

    NDArray tensorOrNull(int index, String keyword) {
        Object v = get(index, keyword, null);
        if (v == null || v instanceof NDArray) {
            return (NDArray) v;
        }
        throw fail("argument " + keyword + " is " + describe(v) + ", not a tensor");
    }

    long longValue(int index, String keyword, Long otherwise) {
        Object v = otherwise == null ? get(index, keyword) : get(index, keyword, otherwise);
        return ScriptValues.toLong(v, () -> fail("argument " + keyword + " is " + describe(v)
                + ", not an int"));
    }

    double doubleValue(int index, String keyword, Double otherwise) {
        Object v = otherwise == null ? get(index, keyword) : get(index, keyword, otherwise);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw fail("argument " + keyword + " is " + describe(v) + ", not a number");
    }

    boolean bool(int index, String keyword, Boolean otherwise) {
        Object v = otherwise == null ? get(index, keyword) : get(index, keyword, otherwise);
        if (v instanceof Boolean b) {
            return b;
        }
        throw fail("argument " + keyword + " is " + describe(v) + ", not a bool");
    }

    long[] longs(int index, String keyword) {
        Object v = get(index, keyword);
        if (v instanceof List<?> l) {
            long[] out = new long[l.size()];
            for (int i = 0; i < out.length; i++) {
                Object x = l.get(i);
                out[i] = ScriptValues.toLong(x, () -> fail("argument " + keyword + " holds "
                        + describe(x) + ", not an int"));
            }
            return out;
        }
        if (v instanceof Long || v instanceof NDArray) {
            return new long[] {ScriptValues.toLong(v, () -> fail(keyword))};
        }
        throw fail("argument " + keyword + " is " + describe(v) + ", not a list of ints");
    }

    /**
     * The number of positional arguments.
     *
     * @return the count
     */
    int size() {
        return args.size();
    }

    /**
     * An error naming the op and the source line.
     *
     * @param what what is wrong
     * @return the exception to throw
     */
    IllegalArgumentException fail(String what) {
        return new IllegalArgumentException(name + " at " + at + ": " + what + ".");
    }

    static String describe(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof NDArray a) {
            return "a tensor of shape " + a.getShape();
        }
        return v.getClass().getSimpleName() + " " + v;
    }
}
