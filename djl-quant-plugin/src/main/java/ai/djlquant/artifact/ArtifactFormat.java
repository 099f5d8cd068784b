package ai.djlquant.artifact;

/**
 * The artifact format in one place: its file names, version, the field names of {@code
 * quantization.json} and the keys of {@code serving.properties}. The writer, the manifest reader,
 * the loader and the CLI all spell them from here, so that a name cannot drift between the side
 * that writes it and the side that reads it. Changing a value here changes the format: old
 * artifacts would no longer load.
 */
public final class ArtifactFormat {

    /** The manifest's file name in an artifact directory. */
    public static final String MANIFEST_FILE = "quantization.json";

    /**
     * The file name of the optional Ed25519 signature of the manifest ({@link ArtifactSigning}).
     */
    public static final String SIGNATURE_FILE = "quantization.json.sig";

    /** The file name of the properties DJL's {@code Criteria} reads from a model directory. */
    public static final String SERVING_PROPERTIES_FILE = "serving.properties";

    /**
     * The format version this library writes and the newest it reads: 2 since weight-only layers
     * (a {@code layers} entry of mode {@code WEIGHT_ONLY}, a rewrite of type {@code
     * WeightOnlyLinear} with its {@code format}); version 1 artifacts hold neither and load as
     * before.
     */
    public static final int VERSION = 2;

    /** The value of the manifest's {@code format} field. */
    static final String NAME = "djl-quant artifact";

    private ArtifactFormat() {}

    /**
     * The file name of a model's parameters (epoch 0, as DJL's {@code Model.load} looks for it).
     *
     * @param modelName the model name
     * @return {@code <name>-0000.params}
     */
    static String parametersFile(String modelName) {
        return modelName + "-0000.params";
    }

    /** The top-level fields of {@code quantization.json}. */
    public static final class Manifest {

        static final String FORMAT = "format";
        static final String FORMAT_VERSION = "formatVersion";
        static final String LIBRARY_VERSION = "libraryVersion";
        static final String DJL_VERSION = "djlVersion";
        static final String ENGINE = "engine";
        static final String MODEL_NAME = "modelName";
        static final String PARAMETERS_FILE = "parametersFile";
        static final String BASE_BLOCK_FACTORY = "baseBlockFactory";

        /** The calibration summary (an object, see {@link Calibration}; may be null). */
        public static final String CALIBRATION = "calibration";

        /** The measured accuracy (an object, see {@link Accuracy}; may be null). */
        public static final String ACCURACY = "accuracy";

        /** The parameter sizes (an object, see {@link WeightBytes}). */
        public static final String WEIGHT_BYTES = "weightBytes";

        static final String LAYERS = "layers";
        static final String REWRITES = "rewrites";
        static final String ARCHITECTURE = "architecture";

        /**
         * Optional (absent: none): the names of the int8 chains the exported model ran ({@code
         * ai.djlquant.transform.ChainTargets}), which the loader forms again and checks. A reader
         * that ignores it runs the same layers unchained, so the format version stays 2.
         */
        static final String INT8_CHAINS = "int8Chains";
        static final String PARAMETERS = "parameters";
        static final String REPORT = "report";
        static final String FILES = "files";

        private Manifest() {}
    }

    /** The fields of each entry of the manifest's {@code files} object. */
    static final class FileFields {

        static final String SHA256 = "sha256";
        static final String BYTES = "bytes";

        private FileFields() {}
    }

    /** The fields of each entry of the manifest's {@code rewrites} array. */
    static final class RewriteFields {

        static final String PATH = "path";
        static final String BASE = "base";
        static final String BLOCK = "block";

        private RewriteFields() {}
    }

    /** The fields of each entry of the manifest's {@code layers} array, and their fixed values. */
    static final class LayerFields {

        static final String PATH = "path";
        static final String TYPE = "type";
        static final String MODE = "mode";
        static final String FUSED_RELU = "fusedRelu";
        /** {@code relu6} for a fused ReLU6 (whose {@code fusedRelu} is false), absent otherwise. */
        static final String FUSED_ACTIVATION = "fusedActivation";
        static final String ACTIVATION = "activation";
        static final String WEIGHT = "weight";

        /** In {@code activation} and {@code weight}: a description of the scheme. */
        static final String SCHEME = "scheme";

        static final String BITS = "bits";
        static final String SCALE = "scale";
        static final String ZERO_POINT = "zeroPoint";
        static final String CHANNELS = "channels";
        static final String SCALES = "scales";

        static final String STATIC = "STATIC";
        static final String DYNAMIC = "DYNAMIC";

        /** Format version 2: a weight-only layer (float activations, no activation object). */
        static final String WEIGHT_ONLY = "WEIGHT_ONLY";

        /** In {@code weight} of a weight-only layer: the per-group offsets of a Q4_1 weight. */
        static final String OFFSETS = "offsets";

        /** In a weight-only rewrite's spec: the format's short name ({@code w8}, {@code w4g64}). */
        static final String FORMAT = "format";
        static final String WEIGHT_SCHEME = "int8 symmetric per-channel [-127, 127]";

        private LayerFields() {}

        /** The activation scheme's description, for example "uint8 asymmetric per-tensor". */
        static String activationScheme(int bits) {
            return "uint" + bits + " asymmetric per-tensor";
        }
    }

    /** The fields of the manifest's {@code calibration} object. */
    public static final class Calibration {

        /** The estimator and observer, as "estimator on observer". */
        public static final String METHOD = "method";

        /** The number of calibration samples. */
        public static final String SAMPLES = "samples";

        static final String BATCHES = "batches";
        static final String SOURCE = "source";
        static final String ACTIVATION_BITS = "activationBits";
        static final String BACKEND = "backend";

        private Calibration() {}
    }

    /** The fields of the manifest's {@code accuracy} object. */
    public static final class Accuracy {

        /** What was measured on. */
        public static final String DATASET = "dataset";

        /** The number of samples measured. */
        public static final String SAMPLES = "samples";

        /** The float model's top-1, a fraction. */
        public static final String FP32_TOP1 = "fp32Top1";

        /** The quantized model's top-1, a fraction. */
        public static final String INT8_TOP1 = "int8Top1";

        private Accuracy() {}
    }

    /** The fields of the manifest's {@code weightBytes} object. */
    public static final class WeightBytes {

        /** The float model's parameter bytes (from the report; absent without one). */
        public static final String FP32 = "fp32";

        /** The artifact's parameter bytes. */
        public static final String INT8 = "int8";

        private WeightBytes() {}
    }

    /** The keys of an artifact's {@code serving.properties}. */
    public static final class Serving {

        /** The engine DJL starts. */
        public static final String ENGINE = "engine";

        /** The block factory DJL calls: always {@link QuantizedBlockFactory}. */
        public static final String BLOCK_FACTORY = "blockFactory";

        /** The block factory of the float architecture, called by {@link QuantizedBlockFactory}. */
        public static final String BASE_BLOCK_FACTORY = "baseBlockFactory";

        /** The translator factory, if the export named one. */
        public static final String TRANSLATOR_FACTORY = "translatorFactory";

        /** The prefix of DJL's options; the other keys are block factory arguments. */
        public static final String OPTION_PREFIX = "option.";

        static final String OPTION_MODEL_NAME = "option.modelName";

        /** False: the block factory loads (and checks) the parameters, not DJL. */
        static final String OPTION_HAS_PARAMETER = "option.hasParameter";

        private Serving() {}
    }
}
