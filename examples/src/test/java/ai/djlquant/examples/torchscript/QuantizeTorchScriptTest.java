package ai.djlquant.examples.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djlquant.LayerReport;
import ai.djlquant.examples.TestData;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The trained TorchScript fixture, imported and quantized with the default config, loses at most
 * 0.5 top-1 points on the committed test split; the imported float model scores the top-1 the
 * training script recorded for the {@code .pt} (fmnist_resnet.json), so the import is the model.
 */
class QuantizeTorchScriptTest {

    private static Path fixture(String file) {
        return TestData.modelsDir().resolve("../../djl-quant-plugin/src/test/resources/torchscript")
                .resolve(file).normalize();
    }

    @Test
    void theImportedTrainedModelKeepsItsTop1WhenQuantized() throws Exception {
        QuantizeTorchScript.Result r = QuantizeTorchScript.run(fixture("fmnist_resnet.pt"),
                TestData.testDir(), TestData.calibrationDir());
        System.out.print(r.report().toTable());
        System.out.printf("fmnist_resnet.pt: fp32 %.4f, int8 %.4f, drop %.2f points%n",
                r.fp32Top1(), r.int8Top1(), r.dropPoints());
        assertEquals(10000, r.samples());
        assertTrue(r.fp32Top1() >= 0.90, "fp32 top-1 " + r.fp32Top1());
        assertTrue(r.dropPoints() <= 0.5, "top-1 " + r.fp32Top1() + " -> " + r.int8Top1());
        int folded = 0;
        for (LayerReport l : r.report().getLayers()) {
            folded += l.getFoldedBatchNorm() != null ? 1 : 0;
        }
        assertTrue(folded > 0, r.report().toTable());

        String json = Files.readString(fixture("fmnist_resnet.json"));
        Matcher m = Pattern.compile("\"(top1|test_top1)\"\\s*:\\s*([0-9.]+)").matcher(json);
        assertTrue(m.find(), json);
        double recorded = Double.parseDouble(m.group(2));
        recorded = recorded > 1 ? recorded / 100 : recorded;
        // 20 images of slack: the float rounding of the preprocessing may differ from torch's
        assertEquals(recorded, r.fp32Top1(), 0.002, "the .pt's top-1 as torch measured it");
    }
}
