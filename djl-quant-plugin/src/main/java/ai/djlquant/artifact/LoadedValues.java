package ai.djlquant.artifact;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.WeightOnlyBlock;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

/**
 * What the int8 kernels and the float ops assume of the numbers a parameter file gives, checked on
 * the loaded tree before any forward: the checksums only say that the files are the ones the
 * manifest lists, and whoever edits a file can edit the manifest too. An implausible number is
 * refused with one sentence naming the layer and the value.
 *
 * <p>Checked, for every layer:
 *
 * <ul>
 *   <li>int8 layers: activation bits 7 or 8; the activation zero point on the bits' grid {@code [0,
 *       2^bits - 1]}; the activation and every weight scale finite and in {@code [}{@link
 *       #MIN_SCALE}{@code , }{@link #MAX_SCALE}{@code ]}; one weight scale per output channel; the
 *       int8 weight in {@code [-127, 127]} (the symmetric grid: {@code -128} has no negation, which
 *       the kernels' compensation terms assume);
 *   <li>convolutions (float and int8): weight {@code [filters, inputChannels / groups, kernel...]}
 *       against the block's own filters, groups, kernel and recorded input shape, bias {@code
 *       [filters]};
 *   <li>linear layers (float and int8): weight {@code [units, features]}, bias {@code [units]}
 *       (DJL's {@code Linear} keeps its feature count private: the rank and the units are
 *       checked);
 *   <li>every float parameter: finite.
 * </ul>
 */
final class LoadedValues {

    /**
     * The smallest scale accepted: {@link AffineQuantizer#MIN_SCALE} (2<sup>-23</sup>), the
     * smallest the quantizer produces.
     */
    static final float MIN_SCALE = AffineQuantizer.MIN_SCALE;

    /**
     * The largest scale accepted, 2<sup>40</sup> (about 1.1e12): values up to {@code 255 *
     * 2^40}, far beyond any trained network's; and with both scales at most 2<sup>40</sup> an int32
     * accumulator (under 2<sup>47</sup>) times the two scales stays below float32's 2<sup>128</sup>,
     * so a layer cannot produce an infinity from finite inputs.
     */
    static final float MAX_SCALE = 0x1p40f;

    private LoadedValues() {}

    /**
     * Checks every layer of a loaded, initialised tree.
     *
     * @param root the loaded root
     * @param file the parameter file's name, for messages
     * @throws ArtifactException naming the first layer and value that is implausible
     */
    static void check(Block root, String file) throws ArtifactException {
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            Block b = n.getBlock();
            String layer = "layer " + n.displayPath() + " (" + n.getType() + ") in " + file;
            checkShapes(b, layer);
            if (b instanceof QuantizedBlock q) {
                checkQuantization(q, layer);
            }
            if (b instanceof WeightOnlyBlock w) {
                checkWeightOnly(w, layer);
            }
            for (Pair<String, Parameter> p : b.getDirectParameters()) {
                checkValues(p.getValue().getArray(), layer + ", parameter '" + p.getKey() + "'");
            }
        }
    }

    private static void checkQuantization(QuantizedBlock q, String layer)
            throws ArtifactException {
        QuantParams act = q.getActivationParams();
        if (act != null) {
            int bits = act.getScheme().getBits();
            if (bits != 7 && bits != 8) {
                throw refuse(layer, "has " + bits + " activation bits, expected 7 or 8");
            }
            checkScale(act.scale(), layer, "activation scale");
            int qmax = (1 << bits) - 1;
            if (act.zeroPoint() < 0 || act.zeroPoint() > qmax) {
                throw refuse(
                        layer,
                        "has activation zero point "
                                + act.zeroPoint()
                                + ", outside the "
                                + bits
                                + "-bit grid [0, "
                                + qmax
                                + "]");
            }
        }
        float[] scales = q.getWeightParams().getScales();
        for (int i = 0; i < scales.length; i++) {
            checkScale(scales[i], layer, "weight scale [" + i + "]");
        }
        for (int z : q.getWeightParams().getZeroPoints()) {
            if (z != 0) {
                throw refuse(layer, "has weight zero point " + z + ", expected 0 (symmetric)");
            }
        }
        NDArray w = ((Block) q).getDirectParameters().get("weight").getArray();
        if (w.getShape().get(0) != scales.length) {
            throw refuse(
                    layer,
                    "has "
                            + scales.length
                            + " weight scales for a weight of shape "
                            + w.getShape());
        }
    }

    /**
     * A weight-only layer: one scale per output channel (8-bit) or per group of {@code groupSize}
     * inputs (4-bit, {@code units * 2 * rowBytes / groupSize}), each in the plausible range; the
     * offsets of {@code w4g*m} layers as many, finite and at most {@link #MAX_SCALE} in magnitude.
     * 4-bit values need no range check: every byte holds two nibbles in {@code [0, 15]}, all on the
     * grid; 8-bit values are held to {@code [-127, 127]} like the int8 blocks' ({@link
     * #checkValues}).
     */
    private static void checkWeightOnly(WeightOnlyBlock w, String layer) throws ArtifactException {
        NDArray weight = ((Block) w).getDirectParameters().get("weight").getArray();
        Shape ws = weight.getShape();
        DataType expected = w.getWeightBits() == 8 ? DataType.INT8 : DataType.UINT8;
        if (weight.getDataType() != expected || ws.dimension() != 2) {
            throw refuse(
                    layer,
                    "has a " + weight.getDataType() + " weight of shape " + ws + ", but its format "
                            + w.getFormatName() + " needs a 2-D " + expected + " weight");
        }
        long features = w.getWeightBits() == 8 ? ws.get(1) : 2 * ws.get(1);
        long groups = w.getWeightBits() == 8 ? 1 : features / w.getGroupSize();
        float[] scales = w.getWeightScales();
        if ((w.getWeightBits() == 4 && features % w.getGroupSize() != 0)
                || scales.length != ws.get(0) * groups) {
            throw refuse(
                    layer,
                    "has " + scales.length + " weight scales for a " + w.getFormatName()
                            + " weight of shape " + ws + " (" + features + " inputs), expected "
                            + ws.get(0) * groups);
        }
        for (int i = 0; i < scales.length; i++) {
            checkScale(scales[i], layer, "weight scale [" + i + "]");
        }
        float[] offsets = w.getWeightOffsets();
        if (offsets != null) {
            if (offsets.length != scales.length) {
                throw refuse(layer, "has " + offsets.length + " weight offsets for " + scales.length + " groups");
            }
            for (int i = 0; i < offsets.length; i++) {
                if (!(Math.abs(offsets[i]) <= MAX_SCALE)) {
                    throw refuse(
                            layer,
                            "has weight offset [" + i + "] " + offsets[i]
                                    + ", outside the plausible range [-" + MAX_SCALE + ", " + MAX_SCALE + "]");
                }
            }
        }
    }

    private static void checkScale(float s, String layer, String what) throws ArtifactException {
        if (!(s >= MIN_SCALE && s <= MAX_SCALE)) {
            throw refuse(
                    layer,
                    "has "
                            + what
                            + " "
                            + s
                            + ", outside the plausible range ["
                            + MIN_SCALE
                            + ", "
                            + MAX_SCALE
                            + "]");
        }
    }

    private static void checkValues(NDArray a, String where) throws ArtifactException {
        if (a.getDataType() == DataType.INT8) {
            byte[] b = a.toByteArray();
            for (int i = 0; i < b.length; i++) {
                if (b[i] == Byte.MIN_VALUE) {
                    throw refuse(
                            where,
                            "holds int8 value -128 at index "
                                    + i
                                    + ", outside the weight grid [-127, 127]");
                }
            }
        } else if (a.getDataType() == DataType.FLOAT32) {
            float[] f = a.toFloatArray();
            for (int i = 0; i < f.length; i++) {
                if (!Float.isFinite(f[i])) {
                    throw refuse(where, "holds " + f[i] + " at index " + i);
                }
            }
        }
    }

    private static void checkShapes(Block b, String layer) throws ArtifactException {
        if (b instanceof Convolution c) {
            Shape in = b.getInputShapes()[0];
            Shape k = c.getKernelShape();
            long[] expected = new long[2 + k.dimension()];
            expected[0] = c.getFilters();
            expected[1] = in.dimension() < 2 ? -1 : in.get(1) / c.getGroups();
            for (int i = 0; i < k.dimension(); i++) {
                expected[2 + i] = k.get(i);
            }
            boolean fits = in.dimension() == expected.length && in.get(1) % c.getGroups() == 0;
            checkShape(b, "weight", fits ? new Shape(expected) : null, layer, in);
            checkShape(b, "bias", new Shape(c.getFilters()), layer, in);
        } else if (b instanceof Linear) {
            Shape in = b.getInputShapes()[0];
            Shape out = b.getOutputShapes(b.getInputShapes())[0];
            long units = out.get(out.dimension() - 1);
            // DJL's Linear (and the int8 one, which keeps its input shape) records only the
            // leading dimensions of the input and keeps the feature count private: the rank and
            // the units are checked here, the features by the forward
            Shape w = b.getDirectParameters().get("weight").getArray().getShape();
            Shape expected =
                    w.dimension() == 2 ? new Shape(units, w.get(1)) : new Shape(units, -1);
            checkShape(b, "weight", expected, layer, in);
            checkShape(b, "bias", new Shape(units), layer, in);
        }
    }

    /** A null {@code expected} means the input shape itself does not fit the block. */
    private static void checkShape(Block b, String name, Shape expected, String layer, Shape in)
            throws ArtifactException {
        Parameter p = b.getDirectParameters().get(name);
        if (p == null || p.getArray() == null) {
            return;
        }
        Shape got = p.getArray().getShape();
        if (!got.equals(expected)) {
            throw refuse(
                    layer,
                    "has "
                            + name
                            + " of shape "
                            + got
                            + (expected == null
                                    ? " for an input of shape " + in + ", which it cannot take"
                                    : ", but its architecture and input shape "
                                            + in
                                            + " need "
                                            + expected));
        }
    }

    private static ArtifactException refuse(String where, String what) {
        return new ArtifactException(where + " " + what + ".");
    }
}
