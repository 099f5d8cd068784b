package ai.djlquant.examples.quantize;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.translate.Pipeline;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;

import java.util.Arrays;

/**
 * Compares two models' raw outputs bit for bit on the test split: the in-memory quantized model and
 * the same model reloaded from its artifact must give exactly the same float32 logits.
 */
public final class PredictionCheck {

    private final int compared;
    private final int firstMismatch;

    private PredictionCheck(int compared, int firstMismatch) {
        this.compared = compared;
        this.firstMismatch = firstMismatch;
    }

    /**
     * Runs both models on the first {@code count} test images, in batches of 100, through {@code
     * Block.forward} on the shared preprocessing.
     *
     * @param a one model
     * @param b the other
     * @param test the test split
     * @param count how many images
     * @return the outcome
     */
    public static PredictionCheck compare(Model a, Model b, IdxDataset test, int count) {
        int n = (int) Math.min(count, test.size());
        Pipeline pipeline = FashionMnist.newPipeline();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int from = 0; from < n; from += 100) {
                int size = Math.min(100, n - from);
                try (NDManager scope = m.newSubManager()) {
                    NDList x = pipeline.transform(new NDList(test.rawImages(scope, from, size)));
                    float[] ya = run(a, x, scope);
                    float[] yb = run(b, x, scope);
                    if (!Arrays.equals(ya, yb)) {
                        int per = ya.length / size;
                        for (int i = 0; i < ya.length; i++) {
                            if (Float.floatToIntBits(ya[i]) != Float.floatToIntBits(yb[i])) {
                                return new PredictionCheck(from + i / per, from + i / per);
                            }
                        }
                    }
                }
            }
        }
        return new PredictionCheck(n, -1);
    }

    private static float[] run(Model model, NDList x, NDManager scope) {
        NDList out = model.getBlock().forward(new ParameterStore(scope, false), x, false);
        NDArray y = out.singletonOrThrow();
        return y.toFloatArray();
    }

    /**
     * Returns whether every compared output was identical.
     *
     * @return true if identical
     */
    public boolean isIdentical() {
        return firstMismatch < 0;
    }

    /**
     * Returns the number of images compared (up to the first mismatch).
     *
     * @return the count
     */
    public int getCompared() {
        return compared;
    }

    /**
     * Returns the index of the first image whose outputs differ.
     *
     * @return the index, or -1
     */
    public int getFirstMismatch() {
        return firstMismatch;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return isIdentical()
                ? "identical float32 outputs on " + compared + " test images"
                : "outputs differ at test image " + firstMismatch;
    }
}
