package ai.djlquant.examples.ptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Pair;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.plan.Objective;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The {@code .npz} files {@link ExportForPyTorch} writes for the PyTorch comparison, read back
 * here in Java by a reader written from the NPY format description (version 1.0), not by the
 * writer's code.
 */
class NpzWriterTest {

    @TempDir Path dir;

    /** One array read back: its type string, shape and raw little-endian data. */
    private record Npy(String descr, long[] shape, ByteBuffer data) {

        float[] floats() {
            float[] v = new float[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return v;
        }

        long[] longs() {
            long[] v = new long[data.remaining() / 8];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
            return v;
        }
    }

    private static final Pattern HEADER =
            Pattern.compile(
                    "\\{'descr': '([<>|][a-z][0-9]+)', 'fortran_order': False, 'shape': \\(([0-9, ]*)\\), \\} *\\n");

    /** Reads every entry in archive order, checking each NPY preamble as NumPy would. */
    private static Map<String, Npy> read(Path file) throws IOException {
        Map<String, Npy> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                byte[] all;
                try (InputStream in = zip.getInputStream(e)) {
                    all = in.readAllBytes();
                }
                assertTrue(e.getName().endsWith(".npy"), e.getName());
                assertArrayEquals(
                        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0},
                        Arrays.copyOf(all, 8),
                        e.getName() + ": magic and version 1.0");
                int headerLength = (all[8] & 0xFF) | (all[9] & 0xFF) << 8;
                assertEquals(0, (10 + headerLength) % 64, e.getName() + ": data aligned to 64");
                String header = new String(all, 10, headerLength, StandardCharsets.US_ASCII);
                Matcher m = HEADER.matcher(header);
                assertTrue(m.matches(), e.getName() + ": header " + header);
                String dims = m.group(2).trim();
                long[] shape =
                        dims.isEmpty()
                                ? new long[0]
                                : Arrays.stream(dims.split(","))
                                        .map(String::trim)
                                        .filter(s -> !s.isEmpty())
                                        .mapToLong(Long::parseLong)
                                        .toArray();
                if (shape.length == 1) {
                    assertTrue(dims.endsWith(","), "a one-element tuple keeps its comma: " + dims);
                }
                ByteBuffer data = ByteBuffer.wrap(all, 10 + headerLength, all.length - 10 - headerLength);
                String name = e.getName().substring(0, e.getName().length() - 4);
                out.put(name, new Npy(m.group(1), shape, data.slice()));
            }
        }
        return out;
    }

    @Test
    void arraysRoundTripWithTheirShapesAndTypes() throws IOException {
        Path file = dir.resolve("a.npz");
        float[] f = {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN, -3.25e-7f};
        long[] l = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE};
        float[] big = new float[40_000]; // past the writer's 64 KiB buffer
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.5f - 7;
        }
        try (NpzWriter w = NpzWriter.create(file)) {
            w.addFloats("param/01Linear_weight", new long[] {2, 3}, f);
            w.addLongs("labels", new long[] {5}, l);
            w.addFloats("scalar", new long[0], new float[] {42f});
            w.addFloats("empty", new long[] {0, 4}, new float[0]);
            w.addFloats("big", new long[] {4, 100, 100}, big);
        }
        Map<String, Npy> back = read(file);
        assertEquals(List.of("param/01Linear_weight", "labels", "scalar", "empty", "big"),
                new ArrayList<>(back.keySet()));
        Npy w = back.get("param/01Linear_weight");
        assertEquals("<f4", w.descr());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(f, w.floats());
        assertEquals("<i8", back.get("labels").descr());
        assertArrayEquals(new long[] {5}, back.get("labels").shape());
        assertArrayEquals(l, back.get("labels").longs());
        assertArrayEquals(new long[0], back.get("scalar").shape());
        assertArrayEquals(new float[] {42f}, back.get("scalar").floats());
        assertArrayEquals(new long[] {0, 4}, back.get("empty").shape());
        assertEquals(0, back.get("empty").data().remaining());
        assertArrayEquals(big, back.get("big").floats());
    }

    @Test
    void badArraysAreRefusedAndChangeNothing() throws IOException {
        Path file = dir.resolve("bad.npz");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.addFloats("x", new long[] {2}, new float[] {1, 2});
            IllegalArgumentException shape =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> w.addFloats("y", new long[] {2, 2}, new float[3]));
            assertTrue(shape.getMessage().contains("'y'"), shape.getMessage());
            assertTrue(shape.getMessage().contains("needs 4 values, got 3"), shape.getMessage());
            assertTrue(shape.getMessage().contains(file.toString()), shape.getMessage());
            IllegalArgumentException twice =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> w.addLongs("x", new long[] {1}, new long[] {7}));
            assertTrue(twice.getMessage().contains("'x' is already written"), twice.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> w.addFloats("", new long[] {1}, new float[1]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> w.addFloats("neg", new long[] {-1, -2}, new float[2]));
            // the refused name y is still free
            w.addFloats("y", new long[] {1}, new float[] {3});
        }
        Map<String, Npy> back = read(file);
        assertEquals(List.of("x", "y"), new ArrayList<>(back.keySet()));
        assertArrayEquals(new float[] {1, 2}, back.get("x").floats());
    }

    @Test
    void everyParameterOfAReferenceModelIsWrittenUnderItsDjlName() throws Exception {
        Path file = dir.resolve("cnn.npz");
        try (ZooModel<Image, Classifications> cnn = ReferenceModel.CNN.load(TestData.modelsDir())) {
            List<String> written;
            try (NpzWriter w = NpzWriter.create(file)) {
                written = ExportForPyTorch.writeParameters(cnn.getBlock(), w);
            }
            Map<String, Npy> back = read(file);
            List<String> expected = new ArrayList<>();
            for (Pair<String, Parameter> p : cnn.getBlock().getParameters()) {
                expected.add(p.getKey());
                Npy a = back.get("param/" + p.getKey());
                assertArrayEquals(p.getValue().getArray().getShape().getShape(), a.shape(), p.getKey());
                assertArrayEquals(p.getValue().getArray().toFloatArray(), a.floats(), p.getKey());
            }
            assertEquals(expected, written);
            assertEquals(expected.size(), back.size());
            // BatchNorm's running statistics are parameters the rebuild needs too
            assertEquals(
                    2, expected.stream().filter(n -> n.endsWith("BatchNorm_runningVar")).count());
            assertEquals(
                    2, expected.stream().filter(n -> n.endsWith("BatchNorm_runningMean")).count());
        }
    }

    @Test
    void theExportedSubsetIsTheOneTheQuantizerCalibratesOn() throws Exception {
        List<Image> folder = CalibrationImages.load(TestData.calibrationDir());
        QuantizationConfig config =
                QuantizationConfig.builder().optObjective(Objective.SIZE).build();
        List<Integer> subset =
                ExportForPyTorch.calibrationSubset(
                        folder.size(), config.getCalibrationSamples(), config.getSeed());
        assertEquals(config.getCalibrationSamples(), subset.size());
        List<Image> used = new ArrayList<>();
        for (int i : subset) {
            used.add(folder.get(i));
        }
        QuantizationReport all = quantizeMlp(folder, config);
        QuantizationReport exported = quantizeMlp(used, config);
        assertEquals(3, ExportForPyTorch.checkSameCalibration("mlp", all, exported));
        // and the check can fail: the first 512 images of the folder are another subset
        QuantizationReport first = quantizeMlp(folder.subList(0, subset.size()), config);
        assertThrows(
                IllegalStateException.class,
                () -> ExportForPyTorch.checkSameCalibration("mlp", all, first));
    }

    private static QuantizationReport quantizeMlp(List<Image> images, QuantizationConfig config)
            throws Exception {
        try (ZooModel<Image, Classifications> mlp = ReferenceModel.MLP.load(TestData.modelsDir())) {
            return Quantizer.quantize(
                    mlp, CalibrationData.fromInputs(images, FashionMnist.newTranslator(), 32), config);
        }
    }
}
