package ai.djlquant.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.ServingBatches;

import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The inputs of a model that does not take images ({@code eval} and {@code bench}): either random
 * normal values of a given sample shape ({@code --input-shape 16} or {@code 3,32,32}: one input,
 * the batch dimension in front), or arrays from a file ({@code --inputs FILE}: numpy's {@code
 * .npz}, safetensors, or DJL's NDList encoding; each array is one model input, batch first, and batches are
 * its first rows, repeated where the file holds fewer). With either, the models are loaded as
 * {@code NDList -> NDList} and need no translator.
 */
final class TensorInputs {

    @Option(
            names = "--input-shape",
            paramLabel = "D[,D...]",
            split = ",",
            description =
                    "A model that does not take images: random normal inputs of this sample shape"
                            + " (the batch dimension is added in front).")
    long[] shape;

    @Option(
            names = "--inputs",
            paramLabel = "FILE",
            description =
                    "A model that does not take images: its inputs from FILE (numpy .npz, safetensors or DJL"
                            + " NDList encoding; one array per model input, batch first).")
    Path file;

    private NDList fromFile;

    /** Whether tensor inputs were asked for. */
    boolean isSet() {
        return shape != null || file != null;
    }

    /**
     * Checks the options and reads the file.
     *
     * @param spec the command, for errors
     * @param manager where the file's arrays live
     */
    void open(CommandLine.Model.CommandSpec spec, NDManager manager) {
        if (shape != null && file != null) {
            throw bad(spec, "give --input-shape or --inputs, not both.");
        }
        if (shape != null) {
            for (long d : shape) {
                if (d < 1) {
                    throw bad(spec, "--input-shape dimensions must be positive, got " + d + ".");
                }
            }
            return;
        }
        if (!Files.isRegularFile(file)) {
            throw bad(spec, "--inputs " + file + " is not a file.");
        }
        try (InputStream in = Files.newInputStream(file)) {
            fromFile = NDList.decode(manager, in);
        } catch (IOException | RuntimeException e) {
            throw bad(
                    spec,
                    "--inputs " + file + " is not a numpy .npz, safetensors or DJL NDList file: "
                            + e.getMessage());
        }
        if (fromFile.isEmpty()) {
            throw bad(spec, "--inputs " + file + " holds no array.");
        }
        long rows = -1;
        for (int i = 0; i < fromFile.size(); i++) {
            Shape s = fromFile.get(i).getShape();
            if (s.dimension() == 0 || (rows >= 0 && s.get(0) != rows)) {
                throw bad(
                        spec,
                        "--inputs " + file + ": array " + i + " has shape " + s
                                + "; every array must have the same number of rows (its first"
                                + " dimension, the batch).");
            }
            rows = s.get(0);
        }
    }

    /** What the inputs are, for the output's first line. */
    String describe() {
        if (shape != null) {
            return "random normal inputs of sample shape " + new Shape(shape) + " (seeded)";
        }
        return "inputs from " + file + " (" + fromFile.size() + " array(s) of "
                + fromFile.get(0).getShape().get(0) + " rows)";
    }

    /**
     * Makes a batch.
     *
     * @param manager where it lives
     * @param rows the batch size
     * @param seed the seed of random inputs
     * @return the batch
     */
    NDList batch(NDManager manager, int rows, long seed) {
        if (shape != null) {
            long[] dims = new long[shape.length + 1];
            dims[0] = rows;
            System.arraycopy(shape, 0, dims, 1, shape.length);
            Random random = new Random(seed);
            float[] values = new float[(int) new Shape(dims).size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            return new NDList(manager.create(values, new Shape(dims)));
        }
        NDList out = new NDList(fromFile.size());
        for (NDArray a : fromFile) {
            NDArray r = ServingBatches.rows(a, rows);
            NDArray b = r == a ? a.duplicate() : r; // the file's own array stays the file's
            b.attach(manager);
            out.add(b.getDataType() == DataType.FLOAT64 ? b.toType(DataType.FLOAT32, false) : b);
        }
        return out;
    }

    /**
     * Makes calibration batches.
     *
     * @param manager where they live
     * @param samples the samples wanted
     * @param batchSize the batch size
     * @return the batches
     */
    List<NDList> calibration(NDManager manager, int samples, int batchSize) {
        List<NDList> out = new ArrayList<>();
        for (int done = 0, k = 0; done < samples; done += batchSize, k++) {
            out.add(batch(manager, Math.min(batchSize, samples - done), 1000 + k));
        }
        return out;
    }

    private static CommandLine.ParameterException bad(
            CommandLine.Model.CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
