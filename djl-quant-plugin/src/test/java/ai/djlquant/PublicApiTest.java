package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djlquant.annotations.Internal;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps the public API what it is meant to be: every public top-level type of the library is
 * either in {@link #API} or marked {@link Internal} (itself or its package). A new public type
 * fails here until it is put in one of the two on purpose.
 */
class PublicApiTest {

    /** What a user of the library may use. */
    private static final Set<String> API =
            Set.of(
                    "ai.djlquant.AccuracyGoal",
                    "ai.djlquant.CalibrationData",
                    "ai.djlquant.HostProfile",
                    "ai.djlquant.HtmlReport",
                    "ai.djlquant.LayerReport",
                    "ai.djlquant.QuantizationConfig",
                    "ai.djlquant.QuantizationInterruptedException",
                    "ai.djlquant.QuantizationReport",
                    "ai.djlquant.Quantizer",
                    "ai.djlquant.Top1Evaluator",
                    "ai.djlquant.annotations.Internal",
                    "ai.djlquant.artifact.ArtifactException",
                    "ai.djlquant.artifact.ArtifactFormat",
                    "ai.djlquant.artifact.ArtifactLoader",
                    "ai.djlquant.artifact.ArtifactSigning",
                    "ai.djlquant.artifact.ArtifactManifest",
                    "ai.djlquant.artifact.ArtifactWriter",
                    "ai.djlquant.artifact.QuantizedBlockFactory",
                    "ai.djlquant.nn.QuantizedBlock",
                    "ai.djlquant.nn.QuantizedConv1d",
                    "ai.djlquant.nn.QuantizedConv2d",
                    "ai.djlquant.nn.QuantizedLinear",
                    "ai.djlquant.nn.WeightOnlyBlock",
                    "ai.djlquant.nn.WeightOnlyLinear",
                    "ai.djlquant.observe.AbstractObserver",
                    "ai.djlquant.observe.EntropyEstimator",
                    "ai.djlquant.observe.HistogramObserver",
                    "ai.djlquant.observe.HistogramRangeEstimator",
                    "ai.djlquant.observe.MinMaxEstimator",
                    "ai.djlquant.observe.MinMaxObserver",
                    "ai.djlquant.observe.MovingAverageMinMaxObserver",
                    "ai.djlquant.observe.MseEstimator",
                    "ai.djlquant.observe.Observer",
                    "ai.djlquant.observe.PercentileEstimator",
                    "ai.djlquant.observe.RangeEstimator",
                    "ai.djlquant.observe.TensorRangeObserver",
                    "ai.djlquant.plan.Objective",
                    "ai.djlquant.plan.QuantizationMode",
                    "ai.djlquant.plan.SpeedComparison",
                    "ai.djlquant.quant.FusedActivation",
                    "ai.djlquant.quant.Granularity",
                    "ai.djlquant.quant.QuantParams",
                    "ai.djlquant.quant.QuantScheme",
                    "ai.djlquant.torchscript.ScriptObject",
                    "ai.djlquant.torchscript.TensorData",
                    "ai.djlquant.torchscript.TorchScriptArchive",
                    "ai.djlquant.torchscript.TorchScriptBlockFactory",
                    "ai.djlquant.torchscript.TorchScriptFormatException",
                    "ai.djlquant.torchscript.TorchScriptImporter");

    @Test
    void everyPublicTypeIsApiOrInternal() throws IOException, ClassNotFoundException {
        Path root = Paths.get("src/main/java");
        assertTrue(Files.isDirectory(root), "run from the module directory: " + root);
        Set<String> unmarked = new TreeSet<>();
        Set<String> internalButListed = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path file : walk.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = root.relativize(file).toString().replace('/', '.');
                name = name.substring(0, name.length() - ".java".length());
                if (name.endsWith("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(name);
                if (!Modifier.isPublic(c.getModifiers())) {
                    continue;
                }
                boolean internal =
                        c.isAnnotationPresent(Internal.class)
                                || c.getPackage().isAnnotationPresent(Internal.class);
                if (!internal && !API.contains(name)) {
                    unmarked.add(name);
                }
                if (internal && API.contains(name)) {
                    internalButListed.add(name);
                }
            }
        }
        assertEquals(
                Set.of(),
                unmarked,
                "public types neither in the API list nor @Internal: add them to one on purpose");
        assertEquals(Set.of(), internalButListed, "API types marked @Internal");
    }

    @Test
    void everyApiTypeExistsAndIsPublic() throws ClassNotFoundException {
        for (String name : API) {
            Class<?> c = Class.forName(name);
            assertTrue(Modifier.isPublic(c.getModifiers()), name + " is in the API but not public");
        }
    }
}
