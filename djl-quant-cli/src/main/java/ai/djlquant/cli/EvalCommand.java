package ai.djlquant.cli;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.examples.eval.ModelEvaluator;

import com.google.gson.GsonBuilder;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code djl-quant eval}: top-1 of float models and artifacts on labelled images. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = {
            "Top-1 accuracy of float models and artifacts on labelled images.",
            "Data: a labelled image folder or an IDX split; one row per --model (repeat it to"
                    + " compare a float model with its artifact)."
        },
        sortOptions = false)
final class EvalCommand implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "NAME|DIR",
            description = "Reference model, float model directory or artifact (repeatable).")
    List<String> models;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description =
                    "Labelled images: IDX split or image folder (default: the committed"
                            + " calibration-data/test).")
    Path data;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "2147483647",
            description = "Evaluate on at most N images (default: all).")
    int limit;

    @CommandLine.Mixin FactoryOptions factories;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws Exception {
        if (limit < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--limit must be at least 1, got " + limit + ".");
        }
        List<ModelRef> refs = new ArrayList<>();
        for (String m : models) {
            refs.add(ModelRef.resolve(spec, "--model", m));
        }
        LabelledImages images = TestDataOption.open(spec, "--data", data);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s, %d images%n", images.describe(), Math.min(limit, images.size()));
        String row = "%-28s %-5s %8s %8s %12s%n";
        out.printf(row, "model", "kind", "images", "top-1", "param bytes");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ModelRef ref : refs) {
            try (ZooModel<Image, Classifications> model =
                    ref.load(spec, factories.blockFactory, factories.translatorFactory)) {
                Accuracy a = Accuracy.measure(model, images, limit);
                long bytes = ModelEvaluator.parameterBytes(model.getBlock());
                String kind = ref.isArtifact() ? "int8" : "fp32";
                out.printf(
                        Locale.ROOT,
                        row,
                        ref.argument,
                        kind,
                        a.samples,
                        String.format(Locale.ROOT, "%.2f%%", a.top1() * 100),
                        String.format(Locale.ROOT, "%,d", bytes));
                out.flush();
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("model", ref.argument);
                r.put("kind", kind);
                r.put("samples", a.samples);
                r.put("correct", a.correct);
                r.put("top1", a.top1());
                r.put("parameterBytes", bytes);
                rows.add(r);
            }
        }
        if (json != null) {
            Files.writeString(
                    json,
                    new GsonBuilder().setPrettyPrinting().create().toJson(rows) + "\n",
                    StandardCharsets.UTF_8);
        }
        return 0;
    }
}
