package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The imported float model computes what DJL's PyTorch engine computes when it runs the same
 * {@code .pt} as a TorchScript module: at least 100 dB SQNR, or a max error within 1e-5 of the
 * output's largest magnitude, at batch 1 and 8.
 */
class TorchScriptImporterTest {

    static Stream<String> models() {
        return Fixtures.MODELS.stream();
    }

    static boolean isBert(String name) {
        return name.startsWith("bert");
    }

    static Shape inputShape(String name, long batch) {
        if (isBert(name)) {
            return new Shape(batch, 16);
        }
        return name.startsWith("fmnist") ? new Shape(batch, 1, 28, 28) : new Shape(batch, 3, 64, 64);
    }

    static Model importFixture(String name) throws Exception {
        return TorchScriptImporter.builder(Fixtures.path(name))
                .optInputShapes(inputShape(name, 1))
                .optInputTypes(isBert(name) ? DataType.INT64 : DataType.FLOAT32)
                .build()
                .importModel();
    }

    static NDArray input(NDManager m, String name, long batch) {
        Shape s = inputShape(name, batch);
        return isBert(name)
                ? m.randomInteger(0, 100, s, DataType.INT64)
                : m.randomNormal(s);
    }

    /**
     * The signal-to-quantization-noise ratio of {@code ours} against {@code ref}, in dB.
     *
     * @param ref the reference
     * @param ours the imported model's output
     * @return the SQNR (infinite when equal)
     */
    static double sqnr(float[] ref, float[] ours) {
        double signal = 0;
        double noise = 0;
        for (int i = 0; i < ref.length; i++) {
            signal += (double) ref[i] * ref[i];
            double d = (double) ref[i] - ours[i];
            noise += d * d;
        }
        return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
    }

    static double relativeMaxError(float[] ref, float[] ours) {
        double max = 0;
        double err = 0;
        for (int i = 0; i < ref.length; i++) {
            max = Math.max(max, Math.abs(ref[i]));
            err = Math.max(err, Math.abs((double) ref[i] - ours[i]));
        }
        return max == 0 ? err : err / max;
    }

    @ParameterizedTest
    @MethodSource("models")
    void equalsTheSameArchiveRunByDjlsPyTorchEngine(String name) throws Exception {
        Path path = Fixtures.path(name);
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(path.getParent())
                        .optModelName(name)
                        .optEngine("PyTorch")
                        .build();
        try (ZooModel<NDList, NDList> reference = criteria.loadModel();
                Model imported = importFixture(name);
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (long batch : new long[] {1, 8}) {
                NDArray x = input(m, name, batch);
                NDList want = reference.getBlock()
                        .forward(new ParameterStore(m, false), new NDList(x), false);
                NDList got = imported.getBlock()
                        .forward(new ParameterStore(m, false), new NDList(x), false);
                assertTrue(got.size() == want.size(), name + ": " + got.size() + " outputs");
                for (int i = 0; i < want.size(); i++) {
                    float[] r = want.get(i).toFloatArray();
                    float[] o = got.get(i).toFloatArray();
                    assertTrue(want.get(i).getShape().equals(got.get(i).getShape()),
                            name + ": shape " + got.get(i).getShape() + " vs "
                                    + want.get(i).getShape());
                    double db = sqnr(r, o);
                    double rel = relativeMaxError(r, o);
                    System.out.printf("%s batch %d output %d: SQNR %.1f dB, rel max err %.2e%n",
                            name, batch, i, db, rel);
                    assertTrue(db >= 100 || rel <= 1e-5,
                            name + " batch " + batch + ": SQNR " + db + " dB, relative error "
                                    + rel);
                }
            }
        }
    }
}
