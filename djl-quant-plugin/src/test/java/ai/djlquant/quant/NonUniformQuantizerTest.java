package ai.djlquant.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.util.Random;

class NonUniformQuantizerTest {

    /** Student's t with 3 degrees of freedom: finite variance, heavy tails. */
    static float[] studentT3(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double chi2 = 0;
            for (int j = 0; j < 3; j++) {
                double g = r.nextGaussian();
                chi2 += g * g;
            }
            x[i] = (float) (r.nextGaussian() / Math.sqrt(chi2 / 3));
        }
        return x;
    }

    static double uniformMse(float[] x, long[] shape, int bits) {
        QuantScheme s = QuantScheme.builder().optBits(bits).build();
        QuantParams p = AffineQuantizer.forWeight(s, x, shape);
        float[] back = AffineQuantizer.dequantize(AffineQuantizer.quantize(x, shape, p), shape, p);
        return Sqnr.meanSquaredError(x, back);
    }

    @Test
    void beatUniformOnHeavyTails() {
        float[] x = studentT3(100_000, 1);
        long[] shape = {100, 1000};
        for (int bits = 2; bits <= 4; bits++) {
            double uniform = uniformMse(x, shape, bits);
            CodebookTensor km = KMeansQuantizer.builder().setBits(bits).build().quantize(x, shape);
            CodebookTensor qu =
                    QuantileQuantizer.builder().setBits(bits).build().quantize(x, shape);
            double kmMse = Sqnr.meanSquaredError(x, km.dequantize());
            double quMse = Sqnr.meanSquaredError(x, qu.dequantize());
            System.out.printf(
                    "t(3), %d bits: MSE uniform %.5f, k-means %.5f, quantile %.5f%n",
                    bits, uniform, kmMse, quMse);
            assertEquals(1 << bits, km.getCodebook().length);
            assertTrue(kmMse < uniform / 2, "k-means " + kmMse + " vs uniform " + uniform);
            assertTrue(quMse < uniform, "quantile " + quMse + " vs uniform " + uniform);
            // k-means minimises the squared error: it must not lose to the quantile codebook
            assertTrue(kmMse <= quMse * 1.0001, "k-means " + kmMse + " vs quantile " + quMse);
        }
    }

    @Test
    void kMeansIsDeterministicForASeed() {
        float[] x = studentT3(20_000, 2);
        long[] shape = {x.length};
        KMeansQuantizer a = KMeansQuantizer.builder().setBits(3).optSeed(5).build();
        assertEquals(a.quantize(x, shape), a.quantize(x, shape));
        assertEquals(
                a.quantize(x, shape),
                KMeansQuantizer.builder().setBits(3).optSeed(5).build().quantize(x, shape));
    }

    @Test
    void kMeansFindsWellSeparatedClusters() {
        float[] x = new float[4000];
        float[] centres = {-10f, -1f, 2f, 30f};
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = centres[i % 4] + (float) (r.nextGaussian() * 0.01);
        }
        CodebookTensor c =
                KMeansQuantizer.builder().setBits(2).build().quantize(x, new long[] {4000});
        assertArrayEquals(centres, c.getCodebook(), 0.002f);
        byte[] idx = c.getIndices();
        for (int i = 0; i < x.length; i++) {
            assertEquals(i % 4, idx[i]);
        }
    }

    @Test
    void fewDistinctValuesAreExact() {
        float[] x = {3f, 1f, 3f, 3f, 1f, 7f};
        long[] shape = {2, 3};
        for (NonUniformQuantizer q :
                new NonUniformQuantizer[] {
                    KMeansQuantizer.builder().setBits(4).build(),
                    QuantileQuantizer.builder().setBits(8).build()
                }) {
            CodebookTensor c = q.quantize(x, shape);
            assertArrayEquals(x, c.dequantize(), q.getClass().getSimpleName());
        }
        // a constant tensor: one level, exact
        CodebookTensor constant =
                KMeansQuantizer.builder()
                        .setBits(2)
                        .build()
                        .quantize(new float[] {5f, 5f}, new long[] {2});
        assertArrayEquals(new float[] {5f}, constant.getCodebook());
    }

    @Test
    void quantileBinsHaveEqualPopulation() {
        float[] x = new float[1024];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.exp(i / 100.0); // skewed, all distinct
        }
        CodebookTensor c =
                QuantileQuantizer.builder().setBits(3).build().quantize(x, new long[] {1024});
        float[] book = c.getCodebook();
        for (int j = 0; j < 8; j++) {
            double mean = 0;
            for (int i = j * 128; i < (j + 1) * 128; i++) {
                mean += x[i];
            }
            assertEquals(mean / 128, book[j], Math.ulp(book[j]) * 4);
        }
    }

    @Test
    void ndArrayInputAndLookupOnTheEngine() {
        float[] x = studentT3(4096, 4);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray w = m.create(x, new Shape(64, 64));
            KMeansQuantizer q = KMeansQuantizer.builder().setBits(4).build();
            CodebookTensor c = q.quantize(w);
            assertEquals(q.quantize(x, new long[] {64, 64}), c);
            NDArray back = c.dequantize(m);
            assertEquals(new Shape(64, 64), back.getShape());
            assertArrayEquals(c.dequantize(), back.toFloatArray());
        }
    }

    @Test
    void badInput() {
        AffineQuantizerTest.assertMessage(
                "bits", () -> KMeansQuantizer.builder().setBits(0).build());
        AffineQuantizerTest.assertMessage(
                "bits", () -> QuantileQuantizer.builder().setBits(9).build());
        AffineQuantizerTest.assertMessage(
                "maxIterations",
                () -> KMeansQuantizer.builder().setBits(2).optMaxIterations(0).build());
        QuantileQuantizer q = QuantileQuantizer.builder().setBits(2).build();
        AffineQuantizerTest.assertMessage(
                "values[1] = NaN", () -> q.quantize(new float[] {1f, Float.NaN}, new long[] {2}));
        AffineQuantizerTest.assertMessage(
                "needs 3", () -> q.quantize(new float[2], new long[] {3}));
        AffineQuantizerTest.assertMessage(
                "indices[0] = 2",
                () -> new CodebookTensor(new float[] {0f, 1f}, new byte[] {2}, new long[] {1}));
        AffineQuantizerTest.assertMessage(
                "non-decreasing",
                () -> new CodebookTensor(new float[] {1f, 0f}, new byte[] {0}, new long[] {1}));
    }

    @Test
    void sqnrKnownAnswers() {
        float[] ref = {1f, -1f, 1f, -1f};
        float[] approx = {1.1f, -0.9f, 0.9f, -1.1f};
        // signal power 4, noise power 4 * 0.01 = 0.04: 20 dB
        assertEquals(20.0, Sqnr.decibels(ref, approx), 1e-5);
        assertEquals(Double.POSITIVE_INFINITY, Sqnr.decibels(ref, ref.clone()));
        assertEquals(Double.NEGATIVE_INFINITY, Sqnr.decibels(new float[2], new float[] {1f, 0f}));
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            assertEquals(20.0, Sqnr.decibels(m.create(ref), m.create(approx)), 1e-5);
            AffineQuantizerTest.assertMessage(
                    "shape", () -> Sqnr.decibels(m.create(ref), m.create(new float[3])));
        }
        AffineQuantizerTest.assertMessage(
                "finite", () -> Sqnr.decibels(new float[] {Float.NaN}, new float[] {0f}));
        // each extra bit of a uniform grid is worth about 6 dB on uniform data
        Random r = new Random(0);
        float[] u = new float[50_000];
        for (int i = 0; i < u.length; i++) {
            u[i] = r.nextFloat() * 2 - 1;
        }
        long[] shape = {u.length};
        QuantScheme s7 = QuantScheme.builder().optBits(7).build();
        QuantScheme s8 = QuantScheme.builder().optBits(8).build();
        double d7 = Sqnr.decibels(u, roundTrip(u, shape, s7));
        double d8 = Sqnr.decibels(u, roundTrip(u, shape, s8));
        assertEquals(6.02, d8 - d7, 0.3);
        // uniform data over [-1, 1], 8 bits: 10 log10((1/3) / (step^2 / 12)), step = 2 / 255
        assertEquals(10 * Math.log10((1.0 / 3) / (Math.pow(2.0 / 255, 2) / 12)), d8, 0.3);
    }

    static float[] roundTrip(float[] x, long[] shape, QuantScheme s) {
        QuantParams p = AffineQuantizer.forWeight(s, x, shape);
        return AffineQuantizer.dequantize(AffineQuantizer.quantize(x, shape, p), shape, p);
    }
}
