package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Sqnr;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * A model quantized with int8 chains exports (the artifact records the SequentialBlock the chain
 * replaced) and loads as the same layers unchained: the loaded outputs match the chained model's
 * (SQNR >= 35 dB; identical where oneDNN writes uint8 and float32 in the same float order).
 */
class ChainedArtifactTest {

    @TempDir static Path tmp;

    @Test
    void aChainedModelExportsAndLoadsUnchained() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.Mlp());
        try (Model m = TestNets.floatModel(new TestNets.Mlp(), "mlp-chained", 5);
                NDManager manager = NDManager.newBaseManager()) {
            QuantizationReport r =
                    Quantizer.quantize(
                            m,
                            CalibrationData.fromBatches(
                                    TestNets.batches(m.getNDManager(), 4, 3, input)),
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optInt8Chains(true)
                                    .optCalibrationSamples(32)
                                    .build());
            assertTrue(m.getBlock() instanceof ChainedSequentialBlock, r.toTable());
            Path dir = tmp.resolve("mlp-int8");
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.Mlp.class)
                    .optReport(r)
                    .build()
                    .write(dir);
            NDArray x =
                    TestNets.batches(manager, 1, 8, input)
                            .get(0)
                            .singletonOrThrow();
            float[] want = TestNets.run(m, x);
            try (Model loaded = ArtifactLoader.load(dir)) {
                assertFalse(loaded.getBlock() instanceof ChainedSequentialBlock);
                double db = Sqnr.decibels(want, TestNets.run(loaded, x));
                assertTrue(db >= 35, db + " dB");
                assertEquals(
                        TreeRewrites.architecture(BlockTree.walk(m.getBlock())),
                        TreeRewrites.architecture(BlockTree.walk(loaded.getBlock())));
            }
        }
    }
}
