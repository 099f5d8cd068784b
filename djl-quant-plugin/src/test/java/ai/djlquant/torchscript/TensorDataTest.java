package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/** The reader fixtures round-trip exactly: dtypes, views, constants, attributes. */
class TensorDataTest {

    private static ScriptObject root(String fixture) throws TorchScriptFormatException {
        return TorchScriptArchive.read(Fixtures.path(fixture)).root();
    }

    @Test
    void everyDtypeReadsExactly() throws Exception {
        ScriptObject m = root("dtypes");
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            TensorData f32 = m.tensor("f32").orElseThrow();
            assertArrayEquals(new long[] {2, 3}, f32.shape());
            assertArrayEquals(new float[] {1.5f, -2.25f, 3.0f, 0.0f, 1e-7f, -0.0f}, f32.toFloatArray());
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(f32.toFloatArray()[5]));
            check(manager, f32, DataType.FLOAT32);

            TensorData f64 = m.tensor("f64").orElseThrow();
            assertArrayEquals(new double[] {1.0 / 3.0, -1e300, 2.5}, doubles(f64), 0.0);
            try (NDArray a = check(manager, f64, DataType.FLOAT64)) {
                assertArrayEquals(new double[] {1.0 / 3.0, -1e300, 2.5}, a.toDoubleArray(), 0.0);
            }

            // float16: our conversion equals the engine's cast, element by element
            TensorData f16 = m.tensor("f16").orElseThrow();
            try (NDArray a = check(manager, f16, DataType.FLOAT16);
                    NDArray f = a.toType(DataType.FLOAT32, true)) {
                assertArrayEquals(f.toFloatArray(), f16.toFloatArray(), 0f);
            }
            assertEquals(0.5f, f16.toFloatArray()[0]);
            assertEquals(-65504f, f16.toFloatArray()[1]);
            assertEquals(1023 * 0x1p-24f, f16.toFloatArray()[2], "6.1e-5 is the subnormal 1023 * 2^-24 in half");
            // bfloat16 is the top half of a float32 (3.0e38 rounds to 8 bits of mantissa)
            float[] bf16 = m.tensor("bf16").orElseThrow().toFloatArray();
            assertEquals(1.0f, bf16[0]);
            assertEquals(-2.5f, bf16[1]);
            assertEquals(0, Float.floatToRawIntBits(bf16[2]) & 0xFFFF);
            assertEquals(3.0e38, bf16[2], 3.0e38 / 256);
            // int16 and bfloat16 arrays abort DJL's PyTorch engine: toNDArray refuses them first
            for (String name : List.of("bf16", "i16")) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> m.tensor(name).orElseThrow().toNDArray(manager));
                assertTrue(e.getMessage().contains("which toNDArray does not make"), e.getMessage());
            }
            try (NDArray a = check(manager, m.tensor("i64").orElseThrow(), DataType.INT64)) {
                assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 7}, a.toLongArray());
            }
            try (NDArray a = check(manager, m.tensor("i32").orElseThrow(), DataType.INT32)) {
                assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE}, a.toIntArray());
            }
            TensorData i16 = m.tensor("i16").orElseThrow();
            assertEquals("int16", i16.dtype());
            ByteBuffer b = ByteBuffer.wrap(i16.contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(-32768, b.getShort(0));
            assertEquals(32767, b.getShort(2));
            assertEquals(5, b.getShort(4));
            try (NDArray a = check(manager, m.tensor("i8").orElseThrow(), DataType.INT8)) {
                assertArrayEquals(new byte[] {-128, 127, 0, -1}, a.toByteArray());
            }
            try (NDArray a = check(manager, m.tensor("u8").orElseThrow(), DataType.UINT8)) {
                assertEquals(new Shape(2, 2), a.getShape());
                assertArrayEquals(new byte[] {0, (byte) 255, (byte) 128, 7}, a.toByteArray());
            }
            try (NDArray a = check(manager, m.tensor("flags").orElseThrow(), DataType.BOOLEAN)) {
                assertArrayEquals(new boolean[] {true, false, true}, a.toBooleanArray());
            }
            TensorData empty = m.tensor("empty").orElseThrow();
            assertArrayEquals(new long[] {0, 3}, empty.shape());
            assertEquals(0, empty.numel());
            assertEquals(0, empty.toFloatArray().length);
            try (NDArray a = empty.toNDArray(manager)) {
                assertEquals(new Shape(0, 3), a.getShape());
            }
            IllegalStateException notFloat =
                    assertThrows(IllegalStateException.class, () -> m.tensor("i64").orElseThrow().toFloatArray());
            assertTrue(notFloat.getMessage().contains("is int64, not a floating type"), notFloat.getMessage());
        }
    }

    /** The copy has the dtype, the shape and the bytes of the view. */
    private static NDArray check(NDManager manager, TensorData t, DataType type) {
        NDArray a = t.toNDArray(manager);
        assertEquals(type, a.getDataType(), t.toString());
        assertEquals(new Shape(t.shape()), a.getShape(), t.toString());
        assertArrayEquals(t.contiguousBytes(), a.toByteArray(), t.toString());
        return a;
    }

    private static double[] doubles(TensorData t) {
        ByteBuffer b = ByteBuffer.wrap(t.contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getDouble(8 * i);
        }
        return out;
    }

    /** Every one of the 65,536 half-precision patterns converts as the engine converts it. */
    @Test
    void halfToFloatIsExactForEveryPattern() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            ByteBuffer all = manager.allocateDirect(2 * 65536);
            for (int bits = 0; bits < 65536; bits++) {
                all.putShort((short) bits);
            }
            all.rewind();
            float[] engine;
            try (NDArray h = manager.create(all, new Shape(65536), DataType.FLOAT16);
                    NDArray f = h.toType(DataType.FLOAT32, true)) {
                engine = f.toFloatArray();
            }
            for (int bits = 0; bits < 65536; bits++) {
                float ours = TensorData.halfToFloat((short) bits);
                if (Float.isNaN(engine[bits])) {
                    assertTrue(Float.isNaN(ours), Integer.toHexString(bits));
                } else {
                    assertEquals(Float.floatToRawIntBits(engine[bits]), Float.floatToRawIntBits(ours),
                            Integer.toHexString(bits));
                }
            }
        }
    }

    /** Views share the parameter's storage and read with their strides and offsets. */
    @Test
    void viewsShareOneStorageAndHonourStrides() throws Exception {
        ScriptObject m = root("views");
        TensorData base = m.tensor("base").orElseThrow();
        TensorData transposed = m.tensor("transposed").orElseThrow();
        TensorData slice = m.tensor("row_slice").orElseThrow();
        TensorData column = m.tensor("column").orElseThrow();
        float[] b = base.toFloatArray();
        for (int i = 0; i < 12; i++) {
            assertEquals(i * 0.5f - 1.0f, b[i]);
        }
        assertTrue(base.requiresGrad() && base.isContiguous());
        assertArrayEquals(new long[] {4, 3}, transposed.shape());
        assertArrayEquals(new long[] {1, 4}, transposed.strides());
        assertFalse(transposed.isContiguous());
        assertArrayEquals(new long[] {5}, new long[] {slice.storageOffset()});
        assertArrayEquals(new long[] {4, 1}, slice.strides());
        assertArrayEquals(new long[] {2}, new long[] {column.storageOffset()});
        assertArrayEquals(new long[] {4}, column.strides());
        for (TensorData view : List.of(transposed, slice, column)) {
            assertEquals(base.storageKey(), view.storageKey());
            assertEquals(base.storage(), view.storage());
            assertEquals(48, view.storage().capacity());
        }
        float[] t = transposed.toFloatArray();
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(b[j * 4 + i], t[i * 3 + j]);
            }
        }
        assertArrayEquals(new float[] {b[5], b[6], b[9], b[10]}, slice.toFloatArray());
        assertArrayEquals(new float[] {b[2], b[6], b[10]}, column.toFloatArray());
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                NDArray whole = base.toNDArray(manager);
                NDArray tr = transposed.toNDArray(manager);
                NDArray expected = whole.transpose()) {
            assertEquals(expected, tr);
        }
        // the storage handed out is read-only and little-endian however it is used
        ByteBuffer s = base.storage();
        assertTrue(s.isReadOnly());
        assertEquals(ByteOrder.LITTLE_ENDIAN, s.order());
        s.position(8);
        assertEquals(0, base.storage().position());
    }

    @Test
    void constantsAreTheTupleOfConstantsPkl() throws Exception {
        TorchScriptArchive archive = TorchScriptArchive.read(Fixtures.path("constants"));
        assertEquals(2, archive.constants().size());
        TensorData weights = (TensorData) archive.constants().get(0);
        assertArrayEquals(new float[] {1.0f, -2.0f, 0.25f, 4.0f}, weights.toFloatArray());
        TensorData offsets = (TensorData) archive.constants().get(1);
        assertEquals("int64", offsets.dtype());
        ByteBuffer o = ByteBuffer.wrap(offsets.contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals(new long[] {3, 1, 4, 1}, new long[] {o.getLong(0), o.getLong(8), o.getLong(16), o.getLong(24)});
        assertTrue(archive.sources().get("__torch__.py").contains("CONSTANTS.c0"), archive.sources().get("__torch__.py"));
        TensorData scalar = archive.root().tensor("scalar").orElseThrow();
        assertArrayEquals(new long[] {}, scalar.shape());
        assertEquals(1, scalar.numel());
        assertArrayEquals(new float[] {2.5f}, scalar.toFloatArray());
        assertThrows(UnsupportedOperationException.class, () -> archive.constants().add(1L));
        assertTrue(TorchScriptArchive.read(Fixtures.path("resnet18")).constants().isEmpty());
    }

    @Test
    void attributesKeepTheirTypesAndOrder() throws Exception {
        ScriptObject m = root("attributes");
        Map<String, Object> a = m.attributes();
        assertEquals(List.of("training", "_is_full_backward_hook", "ints", "floats", "words", "nested", "pair",
                "table", "by_int", "flag", "nothing", "big", "leaf"), List.copyOf(a.keySet()));
        assertEquals(List.of(1L, -2L, 3L), a.get("ints"));
        assertEquals(List.of(0.5, -1.25), a.get("floats"));
        assertEquals(List.of("alpha", "beta", "\u00fcber"), a.get("words"));
        assertEquals(List.of(List.of(1L, 2L), List.of(3L)), a.get("nested"));
        assertEquals(List.of(7L, "seven", 7.5), a.get("pair"));
        assertEquals(Map.of("a", 1L, "b", 2L), a.get("table"));
        Map<?, ?> byInt = (Map<?, ?>) a.get("by_int");
        assertEquals(List.of(3L, 1L), List.copyOf(byInt.keySet()), "dicts keep insertion order");
        assertEquals(List.of(1.0, 2.0), byInt.get(3L));
        assertEquals(Boolean.TRUE, a.get("flag"));
        assertTrue(a.containsKey("nothing"));
        assertNull(a.get("nothing"));
        assertNull(a.get("_is_full_backward_hook"));
        assertEquals(1L << 40, a.get("big"));
        ScriptObject leaf = m.child("leaf").orElseThrow();
        assertEquals("__torch__.Leaf", leaf.qualifiedName());
        assertEquals(0.5, leaf.attributes().get("scale"));
        assertEquals("leaf", leaf.attributes().get("label"));
        assertEquals("Linear", leaf.child("linear").orElseThrow().simpleName());
        assertThrows(UnsupportedOperationException.class, () -> ((List<?>) a.get("ints")).clear());
        assertThrows(UnsupportedOperationException.class, () -> ((Map<?, ?>) a.get("table")).clear());
        // the memo makes one string one object: "training" is shared by both modules' states
        assertSame(List.copyOf(a.keySet()).get(0), List.copyOf(leaf.attributes().keySet()).get(0));
    }

    @Test
    void invalidViewsAreRefusedByTheConstructor() {
        ByteBuffer twelve = ByteBuffer.allocate(48);
        new TensorData("float32", new long[] {3, 4}, new long[] {4, 1}, 0, "0", twelve, false);
        new TensorData("float32", new long[] {0, 4}, new long[] {4, 1}, 12, "0", twelve, false);
        IllegalArgumentException e;
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("float32", new long[] {3, 4}, new long[] {4, 1}, 1, "0", twelve, false));
        assertEquals("Tensor on storage 0: shape [3, 4] with strides [4, 1] and offset 1 reaches element 12 of a"
                + " storage of only 12 float32 elements.", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("float32", new long[] {-1}, new long[] {1}, 0, "0", twelve, false));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TensorData(
                "float32", new long[] {1L << 40, 1L << 40}, new long[] {0, 0}, 0, "0", twelve, false));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("float64", new long[] {3}, new long[] {1}, 0, "0", ByteBuffer.allocate(20), false));
        assertTrue(e.getMessage().contains("not a whole number of float64 elements"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("complex64", new long[] {1}, new long[] {1}, 0, "0", twelve, false));
        assertTrue(e.getMessage().contains("dtype complex64 is not one of"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("float32", new long[] {2}, new long[] {1, 1}, 0, "0", twelve, false));
        assertTrue(e.getMessage().contains("has 1 dimensions but strides"), e.getMessage());
        // broadcast views (stride 0) are valid and read the one element repeatedly
        TensorData repeated = new TensorData("float32", new long[] {3}, new long[] {0}, 2, "0",
                ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN).putFloat(8, 7f), false);
        assertArrayEquals(new float[] {7f, 7f, 7f}, repeated.toFloatArray());
    }
}
