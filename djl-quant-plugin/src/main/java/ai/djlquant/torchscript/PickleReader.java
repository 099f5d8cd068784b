package ai.djlquant.torchscript;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small, strict reader of the pickles that {@code torch.jit.save} writes ({@code data.pkl},
 * {@code constants.pkl}). It interprets pickle opcodes as data only: nothing is imported or
 * executed, and the only callables it knows are a fixed list of globals, each turned into a value
 * of the archive's model ({@link TorchScriptArchive}'s javadoc lists the value types).
 *
 * <p>Opcodes read (protocols 2 to 4, the ones torch uses): PROTO, FRAME, STOP, MARK, POP,
 * POP_MARK, DUP, NONE, NEWTRUE, NEWFALSE, BININT, BININT1, BININT2, LONG1, LONG4 (up to 8 bytes),
 * BINFLOAT, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, EMPTY_LIST, LIST, APPEND, APPENDS,
 * EMPTY_TUPLE, TUPLE, TUPLE1-3, EMPTY_DICT, DICT, SETITEM, SETITEMS, BINPUT, LONG_BINPUT, BINGET,
 * LONG_BINGET, MEMOIZE, GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID. Anything else is
 * refused naming the opcode and its byte offset.
 *
 * <p>Globals allowed: {@code torch._utils._rebuild_tensor_v2} and {@code _rebuild_parameter}
 * (a tensor), {@code collections.OrderedDict} (a dict), {@code torch.jit._pickle.build_intlist /
 * build_doublelist / build_boollist / build_tensorlist} (a typed list: the list itself), {@code
 * torch.jit._pickle.restore_type_tag} (a container and its TorchScript type: the container), the
 * typed storages {@code torch.FloatStorage} ... {@code torch.BoolStorage} (only inside a
 * persistent id), and classes under {@code __torch__} (a {@link ScriptObject}, built from a dict of
 * attributes). Classes under {@code __torch__.torch.classes} are C++ custom classes whose state is
 * opaque, so they are refused.
 *
 * <p>Limits, so that a hostile pickle cannot exhaust memory or the stack: containers nest at most
 * {@link #MAX_DEPTH} deep, the value tree (counting a shared value once per reference) has at most
 * {@link #MAX_NODES} nodes, and a cycle is refused. The pickle itself is in memory, so every
 * other structure is linear in its size, which the archive bounds.
 */
final class PickleReader {

    /** Deepest nesting of containers and objects accepted. */
    static final int MAX_DEPTH = 200;

    /** Most values in the tree, counting a value reachable twice twice (bounds equals/hashCode). */
    static final long MAX_NODES = 20_000_000L;

    /** Pickle protocols accepted: torch writes 2; 3 and 4 only add opcodes read here. */
    private static final int MAX_PROTOCOL = 4;

    /** Storage type names and their dtype. */
    private static final Map<String, String> STORAGES =
            Map.ofEntries(
                    Map.entry("FloatStorage", "float32"),
                    Map.entry("DoubleStorage", "float64"),
                    Map.entry("HalfStorage", "float16"),
                    Map.entry("BFloat16Storage", "bfloat16"),
                    Map.entry("LongStorage", "int64"),
                    Map.entry("IntStorage", "int32"),
                    Map.entry("ShortStorage", "int16"),
                    Map.entry("CharStorage", "int8"),
                    Map.entry("ByteStorage", "uint8"),
                    Map.entry("BoolStorage", "bool"));

    /** The torch.jit._pickle helpers whose one argument is the value. */
    private static final Set<String> TYPED_LISTS =
            Set.of("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist");

    /** Where storages come from: the archive's records. */
    interface Storages {
        /**
         * The bytes of one storage.
         *
         * @param key the persistent id's key (a record name under the pickle's folder)
         * @param dtype the storage's element type
         * @param numel the element count the pickle claims
         * @return the bytes, exactly {@code numel * elementSize} of them
         * @throws TorchScriptFormatException when the record is missing or of another size
         */
        ByteBuffer storage(String key, String dtype, long numel) throws TorchScriptFormatException;
    }

    private final byte[] data;
    private final Path file;
    private final String entry;
    private final Storages storages;
    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, Storage> storagesByKey = new HashMap<>();
    private int opcodeAt;

    private PickleReader(byte[] data, Path file, String entry, Storages storages) {
        this.data = data;
        this.file = file;
        this.entry = entry;
        this.storages = storages;
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads one pickle.
     *
     * @param data the pickle's bytes
     * @param file the archive, for messages
     * @param entry the entry, for messages
     * @param storages where persistent ids lead
     * @return the value, in the archive's value model
     * @throws TorchScriptFormatException when the pickle is malformed or uses what is not allowed
     */
    static Object read(byte[] data, Path file, String entry, Storages storages)
            throws TorchScriptFormatException {
        PickleReader reader = new PickleReader(data, file, entry, storages);
        Object raw = reader.run();
        return new Freezer(reader).freeze(raw, 0);
    }

    // ---- the values under construction -----------------------------------------------------

    /** A pickled tuple: immutable, told apart from a list only until frozen. */
    private record Tuple(Object[] items) {}

    /** The result of GLOBAL: a name, never a callable. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage from a persistent id. */
    private record Storage(String key, String dtype, ByteBuffer bytes) {}

    /** A __torch__ object between NEWOBJ and BUILD. */
    private static final class PendingObject {
        final String qualifiedName;
        final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();
        boolean built;

        PendingObject(String qualifiedName) {
            this.qualifiedName = qualifiedName;
        }
    }

    /** The marker MARK leaves on the stack is kept separately (marks), as CPython does. */
    private Object run() throws TorchScriptFormatException {
        try {
            while (true) {
                opcodeAt = in.position();
                int op = in.get() & 0xFF;
                switch (op) {
                    case 0x80 -> { // PROTO
                        int protocol = in.get() & 0xFF;
                        if (protocol > MAX_PROTOCOL) {
                            throw fail("pickle protocol " + protocol + " is newer than the 2 to 4 torch writes");
                        }
                    }
                    case 0x95 -> in.getLong(); // FRAME: a length hint only
                    case '.' -> { // STOP
                        if (stack.size() != 1 || !marks.isEmpty()) {
                            throw fail("the pickle stops with " + stack.size() + " values on its stack instead of 1");
                        }
                        if (in.hasRemaining()) {
                            throw fail("there are " + in.remaining() + " bytes after the pickle's STOP");
                        }
                        return stack.get(0);
                    }
                    case '(' -> marks.push(stack.size());
                    case '0' -> pop();
                    case '1' -> popMark();
                    case '2' -> push(peek());
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'J' -> push((long) in.getInt());
                    case 'K' -> push((long) (in.get() & 0xFF));
                    case 'M' -> push((long) (in.getShort() & 0xFFFF));
                    case 0x8a -> push(readLong(in.get() & 0xFF));
                    case 0x8b -> push(readLong(in.getInt()));
                    case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // big-endian
                    case 'X' -> push(readString(in.getInt() & 0xFFFFFFFFL));
                    case 0x8c -> push(readString(in.get() & 0xFF));
                    case 0x8d -> push(readString(in.getLong()));
                    case ']' -> push(new ArrayList<>());
                    case 'l' -> push(new ArrayList<>(popMark()));
                    case 'a' -> {
                        Object item = pop();
                        list(peek()).add(item);
                    }
                    case 'e' -> {
                        List<Object> items = popMark();
                        list(peek()).addAll(items);
                    }
                    case ')' -> push(new Tuple(new Object[0]));
                    case 't' -> push(new Tuple(popMark().toArray()));
                    case 0x85 -> push(new Tuple(new Object[] {pop()}));
                    case 0x86 -> {
                        Object b = pop();
                        push(new Tuple(new Object[] {pop(), b}));
                    }
                    case 0x87 -> {
                        Object c = pop();
                        Object b = pop();
                        push(new Tuple(new Object[] {pop(), b, c}));
                    }
                    case '}' -> push(new LinkedHashMap<Object, Object>());
                    case 'd' -> {
                        Map<Object, Object> dict = new LinkedHashMap<>();
                        putAll(dict, popMark());
                        push(dict);
                    }
                    case 's' -> {
                        Object value = pop();
                        Object key = pop();
                        putAll(dict(peek()), pair(key, value));
                    }
                    case 'u' -> {
                        List<Object> items = popMark();
                        putAll(dict(peek()), items);
                    }
                    case 'q' -> memo.put((long) (in.get() & 0xFF), peek());
                    case 'r' -> memo.put(in.getInt() & 0xFFFFFFFFL, peek());
                    case 0x94 -> memo.put((long) memo.size(), peek());
                    case 'h' -> push(memoGet(in.get() & 0xFF));
                    case 'j' -> push(memoGet(in.getInt() & 0xFFFFFFFFL));
                    case 'c' -> push(new Global(readLine(), readLine()));
                    case 0x93 -> {
                        Object name = pop();
                        Object module = pop();
                        if (!(module instanceof String m) || !(name instanceof String n)) {
                            throw fail("STACK_GLOBAL takes two strings");
                        }
                        push(new Global(m, n));
                    }
                    case 'R' -> {
                        Object args = pop();
                        push(reduce(pop(), args));
                    }
                    case 0x81 -> {
                        Object args = pop();
                        push(newObject(pop(), args));
                    }
                    case 'b' -> {
                        Object state = pop();
                        build(peek(), state);
                    }
                    case 'Q' -> push(persistentLoad(pop()));
                    default -> throw fail(String.format("pickle opcode 0x%02x is not one torch writes", op));
                }
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw fail("the pickle ends inside the opcode that starts there (truncated)");
        }
    }

    private static List<Object> pair(Object key, Object value) {
        List<Object> items = new ArrayList<>(2);
        items.add(key);
        items.add(value);
        return items;
    }

    private long readLong(long length) throws TorchScriptFormatException {
        if (length > 8 || length < 0) {
            throw fail("an integer of " + length + " bytes does not fit 64 bits");
        }
        long value = 0;
        for (int i = 0; i < length; i++) {
            value |= (in.get() & 0xFFL) << (8 * i);
        }
        if (length > 0 && length < 8 && (value & (1L << (8 * length - 1))) != 0) {
            value |= -1L << (8 * length); // two's complement: extend the sign
        }
        return value;
    }

    private String readString(long length) throws TorchScriptFormatException {
        if (length < 0 || length > in.remaining()) {
            throw fail("a string of " + length + " bytes runs past the end of the pickle");
        }
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        try {
            return StrictUtf8.decode(bytes);
        } catch (CharacterCodingException e) {
            throw fail("a string is not valid UTF-8");
        }
    }

    private String readLine() throws TorchScriptFormatException {
        int start = in.position();
        while (in.hasRemaining()) {
            if (in.get() == '\n') {
                String line = new String(data, start, in.position() - 1 - start, StandardCharsets.US_ASCII);
                if (!line.matches("[A-Za-z0-9_.]+")) {
                    throw fail("the global name '" + line + "' is not a dotted Python name");
                }
                return line;
            }
        }
        throw fail("a GLOBAL name has no end of line (truncated)");
    }

    private void push(Object value) {
        stack.add(value);
    }

    private Object pop() throws TorchScriptFormatException {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw fail("the opcode takes a value from an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws TorchScriptFormatException {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw fail("the opcode needs a value on an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws TorchScriptFormatException {
        if (marks.isEmpty()) {
            throw fail("the opcode needs a MARK and there is none");
        }
        int at = marks.pop();
        List<Object> top = stack.subList(at, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private Object memoGet(long key) throws TorchScriptFormatException {
        if (!memo.containsKey(key)) {
            throw fail("memo entry " + key + " is read before it is written");
        }
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object target) throws TorchScriptFormatException {
        if (target instanceof ArrayList<?> list) {
            return (List<Object>) list;
        }
        throw fail("APPEND targets " + describe(target) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object target) throws TorchScriptFormatException {
        if (target instanceof LinkedHashMap<?, ?> dict) {
            return (Map<Object, Object>) dict;
        }
        throw fail("SETITEM targets " + describe(target) + ", not a dict");
    }

    private void putAll(Map<Object, Object> dict, List<Object> items) throws TorchScriptFormatException {
        if (items.size() % 2 != 0) {
            throw fail("SETITEMS has an odd number (" + items.size() + ") of keys and values");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object key = items.get(i);
            // Keys must be values whose hash cannot change later: TorchScript's str/int/float/bool.
            if (!(key instanceof String || key instanceof Long || key instanceof Double || key instanceof Boolean)) {
                throw fail("a dict key is " + describe(key) + "; this reader takes str, int, float and bool keys");
            }
            dict.put(key, items.get(i + 1));
        }
    }

    private Object reduce(Object callable, Object args) throws TorchScriptFormatException {
        if (!(callable instanceof Global g)) {
            throw fail("REDUCE calls " + describe(callable) + ", not a global");
        }
        if (!(args instanceof Tuple t)) {
            throw fail("REDUCE of " + g.qualified() + " has arguments " + describe(args) + ", not a tuple");
        }
        Object[] a = t.items();
        switch (g.qualified()) {
            case "torch._utils._rebuild_tensor_v2" -> {
                if (a.length < 6 || a.length > 7) {
                    throw fail("_rebuild_tensor_v2 takes 6 or 7 arguments, not " + a.length);
                }
                return tensor(a[0], a[1], a[2], a[3], a[4]);
            }
            case "torch._utils._rebuild_parameter" -> {
                if (a.length != 3 || !(a[0] instanceof TensorData d) || !(a[1] instanceof Boolean grad)) {
                    throw fail("_rebuild_parameter takes (tensor, requires_grad, hooks)");
                }
                return new TensorData(d.dtype(), d.shape(), d.strides(), d.storageOffset(), d.storageKey(),
                        d.storage(), grad);
            }
            case "collections.OrderedDict" -> {
                if (a.length != 0) {
                    throw fail("OrderedDict is built here only empty, then filled");
                }
                return new LinkedHashMap<Object, Object>();
            }
            case "torch.jit._pickle.restore_type_tag" -> {
                if (a.length != 2 || !(a[1] instanceof String)) {
                    throw fail("restore_type_tag takes (value, type name)");
                }
                return a[0];
            }
            default -> {
                if (g.module().equals("torch.jit._pickle") && TYPED_LISTS.contains(g.name())) {
                    if (a.length != 1 || !(a[0] instanceof ArrayList<?>)) {
                        throw fail(g.name() + " takes one list");
                    }
                    return a[0];
                }
                throw fail("the pickle calls the global " + g.qualified()
                        + ", which is not on this reader's allow-list (tensors, OrderedDict, TorchScript lists and modules)");
            }
        }
    }

    private TensorData tensor(Object storage, Object offset, Object size, Object stride, Object grad)
            throws TorchScriptFormatException {
        if (!(storage instanceof Storage s)) {
            throw fail("_rebuild_tensor_v2's storage is " + describe(storage) + ", not a persistent storage");
        }
        if (!(offset instanceof Long off) || !(grad instanceof Boolean requiresGrad)) {
            throw fail("_rebuild_tensor_v2 takes (storage, int offset, sizes, strides, bool requires_grad, hooks)");
        }
        long[] shape = longs(size, "sizes");
        long[] strides = longs(stride, "strides");
        String problem = TensorData.problem(s.dtype(), shape, strides, off, s.bytes().capacity());
        if (problem != null) {
            throw fail("the tensor on storage " + s.key() + ": " + problem);
        }
        return new TensorData(s.dtype(), shape, strides, off, s.key(), s.bytes(), requiresGrad);
    }

    private long[] longs(Object tuple, String what) throws TorchScriptFormatException {
        if (!(tuple instanceof Tuple t)) {
            throw fail("_rebuild_tensor_v2's " + what + " is " + describe(tuple) + ", not a tuple");
        }
        if (t.items().length > TensorData.MAX_RANK) {
            throw fail("a tensor has " + t.items().length + " " + what + ", more than PyTorch's " + TensorData.MAX_RANK);
        }
        long[] out = new long[t.items().length];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items()[i] instanceof Long v)) {
                throw fail("_rebuild_tensor_v2's " + what + " hold " + describe(t.items()[i]) + ", not ints");
            }
            out[i] = v;
        }
        return out;
    }

    private Object newObject(Object cls, Object args) throws TorchScriptFormatException {
        if (!(cls instanceof Global g)) {
            throw fail("NEWOBJ makes " + describe(cls) + ", not a class");
        }
        String name = g.qualified();
        if (!(g.module().equals("__torch__") || g.module().startsWith("__torch__."))) {
            throw fail("the pickle makes an object of " + name + "; only TorchScript classes (__torch__.*) are allowed");
        }
        if (g.module().startsWith("__torch__.torch.classes")) {
            throw fail("the pickle makes " + name + ", a C++ custom class (such as a quantized or packed module) whose state this reader cannot read");
        }
        if (!(args instanceof Tuple t) || t.items().length != 0) {
            throw fail("NEWOBJ of " + name + " has arguments; TorchScript objects are made empty");
        }
        return new PendingObject(name);
    }

    private void build(Object target, Object state) throws TorchScriptFormatException {
        if (!(target instanceof PendingObject o)) {
            throw fail("BUILD sets the state of " + describe(target) + ", not a TorchScript object");
        }
        if (o.built) {
            throw fail("BUILD sets the state of " + o.qualifiedName + " twice");
        }
        if (!(state instanceof LinkedHashMap<?, ?> dict)) {
            throw fail("the state of " + o.qualifiedName + " is " + describe(state)
                    + ", not a dict of attributes (a module with __setstate__, which this reader cannot read)");
        }
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String attribute)) {
                throw fail("an attribute name of " + o.qualifiedName + " is " + describe(e.getKey()));
            }
            o.attributes.put(attribute, e.getValue());
        }
        o.built = true;
    }

    private Object persistentLoad(Object pid) throws TorchScriptFormatException {
        if (!(pid instanceof Tuple t) || t.items().length != 5 || !"storage".equals(t.items()[0])) {
            throw fail("a persistent id is " + describe(pid) + ", not ('storage', type, key, location, size)");
        }
        Object[] a = t.items();
        if (!(a[1] instanceof Global type) || !type.module().equals("torch") || !STORAGES.containsKey(type.name())) {
            throw fail("a storage has type " + describe(a[1]) + ", not one of torch." + new java.util.TreeSet<>(STORAGES.keySet()));
        }
        if (!(a[2] instanceof String key) || !(a[3] instanceof String) || !(a[4] instanceof Long numel)) {
            throw fail("a persistent id is not ('storage', type, str key, str location, int size)");
        }
        if (!key.matches("[A-Za-z0-9_.]+") || key.startsWith(".")) {
            throw fail("the storage key '" + key + "' is not a record name");
        }
        String dtype = STORAGES.get(type.name());
        Storage known = storagesByKey.get(key);
        if (known != null) {
            if (!known.dtype().equals(dtype)) {
                throw fail("storage " + key + " is read as " + known.dtype() + " and as " + dtype);
            }
            return known;
        }
        if (numel < 0) {
            throw fail("storage " + key + " claims " + numel + " elements");
        }
        Storage storage = new Storage(key, dtype, storages.storage(key, dtype, numel));
        storagesByKey.put(key, storage);
        return storage;
    }

    private static String describe(Object value) {
        if (value == null) {
            return "None";
        }
        if (value instanceof Global g) {
            return "the global " + g.qualified();
        }
        if (value instanceof Tuple) {
            return "a tuple";
        }
        if (value instanceof PendingObject o) {
            return "an object of " + o.qualifiedName;
        }
        if (value instanceof Storage s) {
            return "storage " + s.key();
        }
        if (value instanceof List) {
            return "a list";
        }
        if (value instanceof Map) {
            return "a dict";
        }
        if (value instanceof TensorData) {
            return "a tensor";
        }
        return "a " + value.getClass().getSimpleName() + " (" + value + ")";
    }

    private TorchScriptFormatException fail(String what) {
        return TorchScriptFormatException.at(file, entry, what + " (pickle byte " + opcodeAt + ")");
    }

    /**
     * Turns the mutable values the opcodes built into the final ones: unmodifiable lists and maps,
     * {@link ScriptObject} records. A value reachable along two paths becomes one frozen value; a
     * cycle is refused (the records' equals and hashCode could not end).
     */
    private static final class Freezer {
        private final PickleReader reader;
        private final Map<Object, Object> done = new IdentityHashMap<>();
        private final Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Map<Object, Long> nodes = new IdentityHashMap<>();
        private long total;

        Freezer(PickleReader reader) {
            this.reader = reader;
        }

        Object freeze(Object value, int depth) throws TorchScriptFormatException {
            if (value == null || value instanceof String || value instanceof Long || value instanceof Double
                    || value instanceof Boolean || value instanceof TensorData) {
                count(1);
                return value;
            }
            if (value instanceof Global g) {
                throw reader.fail("the global " + g.qualified() + " is left as a value instead of being called");
            }
            if (value instanceof Storage s) {
                throw reader.fail("storage " + s.key() + " is left as a value outside a tensor");
            }
            Object frozen = done.get(value);
            if (frozen != null) {
                count(nodes.get(value)); // a shared value counts once per reference
                return frozen;
            }
            if (open.contains(value)) {
                throw reader.fail("a " + kind(value) + " contains itself");
            }
            if (depth >= MAX_DEPTH) {
                throw reader.fail("containers nest deeper than " + MAX_DEPTH + " levels");
            }
            open.add(value);
            long before = total;
            count(1);
            if (value instanceof ArrayList<?> list) {
                List<Object> items = new ArrayList<>(list.size());
                for (Object item : list) {
                    items.add(freeze(item, depth + 1));
                }
                frozen = Collections.unmodifiableList(items);
            } else if (value instanceof Tuple t) {
                List<Object> items = new ArrayList<>(t.items().length);
                for (Object item : t.items()) {
                    items.add(freeze(item, depth + 1));
                }
                frozen = Collections.unmodifiableList(items);
            } else if (value instanceof LinkedHashMap<?, ?> dict) {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : dict.entrySet()) {
                    map.put(e.getKey(), freeze(e.getValue(), depth + 1));
                }
                frozen = Collections.unmodifiableMap(map);
            } else if (value instanceof PendingObject o) {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, Object> e : o.attributes.entrySet()) {
                    map.put(e.getKey(), freeze(e.getValue(), depth + 1));
                }
                frozen = new ScriptObject(o.qualifiedName, Collections.unmodifiableMap(map));
            } else {
                throw reader.fail("the pickle holds " + describe(value) + ", which is not a value of the model");
            }
            open.remove(value);
            done.put(value, frozen);
            nodes.put(value, total - before);
            return frozen;
        }

        private void count(long n) throws TorchScriptFormatException {
            total += n;
            if (total > MAX_NODES) {
                throw reader.fail("the value tree has more than " + MAX_NODES
                        + " nodes counting shared values per reference (a pickle bomb?)");
            }
        }

        private static String kind(Object value) {
            return value instanceof PendingObject o ? "object of " + o.qualifiedName
                    : value instanceof LinkedHashMap ? "dict" : value instanceof Tuple ? "tuple" : "list";
        }
    }
}
