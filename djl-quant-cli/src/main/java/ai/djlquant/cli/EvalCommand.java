package ai.djlquant.cli;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.plan.SqnrMeter;

import com.google.gson.GsonBuilder;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
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
                    + " compare a float model with its artifact). A model that does not take"
                    + " images (--input-shape or --inputs) is compared with the first --model by"
                    + " its output SQNR on the same inputs."
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

    @CommandLine.Mixin TensorInputs tensors;

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
        PrintWriter out = spec.commandLine().getOut();
        if (tensors.isSet()) {
            writeJson(compareOutputs(refs, out));
            return 0;
        }
        LabelledImages images = TestDataOption.open(spec, "--data", data);
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
        writeJson(rows);
        return 0;
    }

    private void writeJson(List<Map<String, Object>> rows) throws IOException {
        if (json != null) {
            Files.writeString(
                    json,
                    new GsonBuilder().setPrettyPrinting().create().toJson(rows) + "\n",
                    StandardCharsets.UTF_8);
        }
    }

    /**
     * A model that does not take images has no labels here: each model's outputs are compared
     * with the first model's (the float one) on the same inputs, as an output SQNR over every
     * float output value.
     */
    private List<Map<String, Object>> compareOutputs(List<ModelRef> refs, PrintWriter out)
            throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (NDManager inputs = NDManager.newBaseManager()) {
            tensors.open(spec, inputs);
            int samples = limit == Integer.MAX_VALUE ? DEFAULT_TENSOR_SAMPLES : limit;
            List<NDList> batches = tensors.calibration(inputs, samples, 32);
            out.printf("%s, %d samples%n", tensors.describe(), samples);
            String row = "%-28s %-5s %8s %22s %12s%n";
            out.printf(row, "model", "kind", "samples", "output SQNR vs first", "param bytes");
            List<NDList> reference = null;
            for (ModelRef ref : refs) {
                try (ZooModel<NDList, NDList> model = ref.loadTensors(spec, factories.blockFactory)) {
                    List<NDList> outputs = new ArrayList<>();
                    ParameterStore store = new ParameterStore(inputs, false);
                    for (NDList b : batches) {
                        outputs.add(model.getBlock().forward(store, b, false));
                    }
                    SqnrMeter meter = new SqnrMeter();
                    if (reference != null) {
                        for (int i = 0; i < outputs.size(); i++) {
                            for (int j = 0; j < Math.min(outputs.get(i).size(), reference.get(i).size()); j++) {
                                meter.add(reference.get(i).get(j), outputs.get(i).get(j));
                            }
                        }
                    } else {
                        reference = outputs;
                    }
                    double db = meter.decibels();
                    long bytes = ModelEvaluator.parameterBytes(model.getBlock());
                    String kind = ref.isArtifact() ? "int8" : "fp32";
                    out.printf(
                            Locale.ROOT,
                            row,
                            ref.argument,
                            kind,
                            samples,
                            rows.isEmpty() ? "(the reference)" : String.format(Locale.ROOT, "%.1f dB", db),
                            String.format(Locale.ROOT, "%,d", bytes));
                    out.flush();
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("model", ref.argument);
                    r.put("kind", kind);
                    r.put("samples", samples);
                    r.put("outputSqnrDb", rows.isEmpty() || !Double.isFinite(db) ? null : db);
                    r.put("parameterBytes", bytes);
                    rows.add(r);
                }
            }
        }
        return rows;
    }

    /** Samples compared for a model without images when --limit is not given. */
    static final int DEFAULT_TENSOR_SAMPLES = 256;
}
