package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * The ops of the table the fixtures do not exercise, against values worked out by hand from
 * aten's definitions, and the import-time checks.
 */
class ScriptOpsTest {

    private static NDManager m;

    @BeforeAll
    static void manager() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        m.close();
    }

    private static Object call(String name, List<Object> args, List<String> kw, List<Object> kwv) {
        ScriptOps.Entry e = ScriptOps.lookup(name);
        return e.impl().apply(new OpCall(name, args, kw, kwv, m, "test.py:1"));
    }

    private static Object call(String name, Object... args) {
        return call(name, List.of(args), List.of(), List.of());
    }

    private static float[] f(Object o) {
        return ((NDArray) o).toFloatArray();
    }

    @Test
    void arithmeticWithAlphaAndScalars() {
        NDArray a = m.create(new float[] {1, 2, 3});
        NDArray b = m.create(new float[] {10, 20, 30});
        assertArrayEquals(new float[] {21, 42, 63}, f(call("torch.add", a, b, 2L)), 0f);
        assertArrayEquals(new float[] {-19, -38, -57}, f(call("torch.sub", a, b, 2L)), 0f);
        // rsub(a, b, alpha) = b - alpha * a
        assertArrayEquals(new float[] {8, 16, 24}, f(call("torch.rsub", a, b, 2L)), 0f);
        assertArrayEquals(new float[] {0.5f, 1, 1.5f}, f(call("torch.div", a, 2.0)), 0f);
        assertArrayEquals(new float[] {2, 1, 2 / 3f}, f(call("torch.div", 2L, a)), 1e-7f);
        assertEquals(7L, call("torch.add", 3L, 4L));
        assertEquals(12L, call("torch.mul", 3L, 4L));
        assertArrayEquals(new float[] {1, 4, 9}, f(call("torch.pow", a, 2L)), 0f);
    }

    @Test
    void shapesAndIndexing() {
        NDArray x = m.arange(24f).reshape(2, 3, 4);
        assertEquals(new Shape(2, 12), ((NDArray) call("torch.flatten", x, 1L)).getShape());
        assertEquals(new Shape(4, 2, 3),
                ((NDArray) call("torch.permute", x, List.of(2L, 0L, 1L))).getShape());
        assertArrayEquals(new float[] {8, 9, 10, 11, 20, 21, 22, 23},
                f(call("torch.select", x, 1L, -1L)), 0f);
        // slice(dim 2, 1, huge end, step 2) -> columns 1 and 3
        NDArray s = (NDArray) call("torch.slice", x, 2L, 1L, Long.MAX_VALUE, 2L);
        assertEquals(new Shape(2, 3, 2), s.getShape());
        assertArrayEquals(new float[] {1, 3, 5, 7}, ((NDArray) s.get("0, 0:2")).toFloatArray(), 0f);
        assertEquals(List.of(2L, 3L, 4L), call("torch.size", x));
        assertEquals(4L, call("torch.size", x, -1L));
        assertEquals(new Shape(2, 1, 3, 4), ((NDArray) call("torch.unsqueeze", x, 1L)).getShape());
        assertEquals(new Shape(2, 3, 8),
                ((NDArray) call("torch.cat", List.of(x, x), -1L)).getShape());
        NDArray mean = (NDArray) call("torch.mean", List.of(x, List.of(-1L), true),
                List.of(), List.of());
        assertEquals(new Shape(2, 3, 1), mean.getShape());
        assertArrayEquals(new float[] {1.5f, 13.5f}, ((NDArray) mean.get("0:2, 0, 0")).toFloatArray(),
                0f);
    }

    @Test
    void numbersAndTensorsConvert() {
        NDArray n = (NDArray) call("ops.prim.NumToTensor", 5L);
        assertEquals(DataType.INT64, n.getDataType());
        assertEquals(5L, call("int", n));
        assertEquals(2.5, call("float", m.create(2.5f)));
        NDArray r = (NDArray) call("torch.arange", List.of(4L), List.of("dtype"),
                java.util.Arrays.asList((Object) null));
        assertEquals(DataType.INT64, r.getDataType());
        assertArrayEquals(new long[] {0, 1, 2, 3}, r.toLongArray());
    }

    @Test
    void activationsFollowTheirDefinitions() {
        NDArray x = m.create(new float[] {-4, -1, 0, 1, 4});
        assertArrayEquals(new float[] {0, 2 / 6f, 0.5f, 4 / 6f, 1},
                f(call("torch.hardsigmoid", x)), 1e-7f);
        assertArrayEquals(new float[] {0, -2 / 6f, 0, 4 / 6f, 4},
                f(call("torch.hardswish", x)), 1e-6f);
        assertArrayEquals(new float[] {0, 0, 0, 1, 4}, f(call("torch.relu_", x)), 0f);
        assertArrayEquals(new float[] {0, 0, 0, 1, 4}, f(call("torch.hardtanh", x, 0.0, 6.0)), 0f);
    }

    @Test
    void literalChecksRefuseWhatTheImplementationsDoNotCover() {
        assertEquals("a transposed convolution",
                ScriptOps.lookup("torch._convolution").check().problem(Map.of("transposed", true)));
        assertNull(ScriptOps.lookup("torch._convolution").check()
                .problem(Map.of("transposed", false)));
        assertTrue(ScriptOps.lookup("torch.gelu").check().problem(Map.of("approximate", "tanh"))
                .contains("approximate=tanh"));
        assertTrue(ScriptOps.lookup("torch.dropout").check().problem(Map.of("train", true))
                .contains("training mode"));
        assertNull(ScriptOps.lookup("torch.cumsum"));
    }

    @Test
    void aWrongArgumentIsNamedWithTheOpAndLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> call("torch.matmul", "a", m.create(1f)));
        assertEquals("torch.matmul at test.py:1: argument self is String a, not a tensor.",
                e.getMessage());
    }
}
