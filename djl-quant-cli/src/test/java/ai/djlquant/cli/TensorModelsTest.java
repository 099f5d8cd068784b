package ai.djlquant.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.artifact.ArtifactWriter;
import ai.djlquant.plan.Objective;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code eval} and {@code bench} on a model that does not take images: random inputs of a given
 * shape, or arrays from a numpy {@code .npz}; the models load as {@code NDList -> NDList}.
 */
class TensorModelsTest {

    @TempDir static Path tmp;
    static Path floatDir;
    static Path artifact;
    static Path npz;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = DjlQuant.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @BeforeAll
    static void models() throws Exception {
        floatDir = tmp.resolve("tiny");
        Files.createDirectories(floatDir);
        Files.writeString(
                floatDir.resolve("serving.properties"),
                "blockFactory=" + TinyMlpFactory.class.getName() + "\n",
                StandardCharsets.UTF_8);
        try (Model model = Model.newInstance("tiny")) {
            Block b = new TinyMlpFactory().newBlock(model, floatDir, null);
            model.setBlock(b);
            model.getNDManager().getEngine().setRandomSeed(3);
            b.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 16));
            model.save(floatDir, "tiny");
            List<NDList> cal = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                cal.add(new NDList(model.getNDManager().randomNormal(new Shape(8, 16))));
            }
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            QuantizationConfig.builder().optObjective(Objective.SIZE).build());
            assertEquals(2, r.getLayers().size());
            artifact = tmp.resolve("tiny-int8");
            ArtifactWriter.builder()
                    .setModel(model)
                    .setBaseBlockFactory(TinyMlpFactory.class)
                    .optReport(r)
                    .build()
                    .write(artifact);
        }
        npz = tmp.resolve("inputs.npz");
        try (NDManager m = NDManager.newBaseManager();
                OutputStream os = Files.newOutputStream(npz)) {
            m.getEngine().setRandomSeed(9);
            new NDList(m.randomNormal(new Shape(40, 16))).encode(os, NDList.Encoding.NPZ);
        }
    }

    @Test
    void evalComparesOutputsOnRandomInputsAndOnAFile() throws Exception {
        Path json = tmp.resolve("eval.json");
        String[] r =
                run("eval", "--model", floatDir.toString(), "--model", artifact.toString(),
                        "--inputs", npz.toString(), "--limit", "40", "--json", json.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        assertTrue(r[1].contains("inputs from " + npz + " (1 array(s) of 40 rows)"), r[1]);
        JsonArray rows = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
        assertEquals(2, rows.size());
        assertEquals("int8", rows.get(1).getAsJsonObject().get("kind").getAsString());
        double db = rows.get(1).getAsJsonObject().get("outputSqnrDb").getAsDouble();
        // 23.4 dB measured (32 calibration rows, other inputs): above the 20 dB AUTO floor
        assertTrue(db > 20, "int8 vs fp32 output SQNR " + db);

        String[] random =
                run("eval", "--model", floatDir.toString(), "--model", artifact.toString(),
                        "--input-shape", "16");
        assertEquals("0", random[0], random[1] + random[2]);
        assertTrue(random[1].contains("random normal inputs of sample shape (16)"), random[1]);
        assertTrue(random[1].contains(" dB"), random[1]);
    }

    @Test
    void benchTimesAModelWithoutImagesQuantizedInMemory() {
        String[] r =
                run("bench", "--model", floatDir.toString(), "--input-shape", "16",
                        "--batch-sizes", "1,4", "--rounds", "1", "--round-ms", "1",
                        "--samples", "32");
        assertEquals("0", r[0], r[1] + r[2]);
        assertTrue(r[1].contains("quantizing tiny in memory with 32 samples"), r[1]);
        assertTrue(r[1].contains("tiny forward") || r[1].contains("tiny "), r[1]);
        long rows = r[1].lines().filter(l -> l.startsWith("tiny ")).count();
        assertEquals(2, rows, r[1]);
    }

    @Test
    void badTensorOptionsNameTheOption() {
        String[] zero = run("bench", "--model", floatDir.toString(), "--input-shape", "16,0");
        assertEquals(String.valueOf(DjlQuant.BAD_ARGUMENTS), zero[0], zero[2]);
        assertTrue(zero[2].contains("--input-shape dimensions must be positive, got 0."), zero[2]);
        String[] missing =
                run("eval", "--model", floatDir.toString(), "--inputs", tmp.resolve("no.npz").toString());
        assertEquals(String.valueOf(DjlQuant.BAD_ARGUMENTS), missing[0], missing[2]);
        assertTrue(missing[2].contains("--inputs " + tmp.resolve("no.npz") + " is not a file."), missing[2]);
        String[] both =
                run("eval", "--model", floatDir.toString(), "--inputs", npz.toString(),
                        "--input-shape", "16");
        assertEquals(String.valueOf(DjlQuant.BAD_ARGUMENTS), both[0], both[2]);
        assertTrue(both[2].contains("give --input-shape or --inputs, not both."), both[2]);
    }
}
