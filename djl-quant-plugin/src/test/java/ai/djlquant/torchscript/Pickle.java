package ai.djlquant.torchscript;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes by hand, for the refusal tests (what torch writes, and what it never does). */
final class Pickle {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    Pickle proto() {
        return op(0x80, 2);
    }

    Pickle global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    Pickle str(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le32(bytes.length);
        out.writeBytes(bytes);
        return this;
    }

    Pickle integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K', (int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            return le32((int) v);
        }
        op(0x8a, 8);
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    Pickle le32(int v) {
        return op(v, v >>> 8, v >>> 16, v >>> 24);
    }

    Pickle mark() {
        return op('(');
    }

    Pickle tuple() {
        return op('t');
    }

    Pickle longs(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return tuple();
    }

    /** A tensor: _rebuild_tensor_v2 of a float storage. */
    Pickle tensor(String key, long numel, long offset, long[] shape, long[] strides) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel).tuple().op('Q');
        integer(offset).longs(shape).longs(strides).op(0x89).global("collections", "OrderedDict").op(')', 'R');
        return tuple().op('R');
    }

    /** A module object of class {@code __torch__.<name>} whose state follows, then BUILD. */
    Pickle module(String name) {
        return global("__torch__", name).op(')', 0x81, '}').mark();
    }

    Pickle endModule() {
        return op('u', 'b');
    }

    Pickle stop() {
        return op('.');
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
