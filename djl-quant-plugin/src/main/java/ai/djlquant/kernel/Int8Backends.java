package ai.djlquant.kernel;

import ai.djl.engine.Engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the int8 backend once per JVM (as Lucene chooses its vectorization provider): oneDNN if
 * its native library loads, otherwise the {@link ReferenceBackend}, with one log line saying why.
 *
 * <p>The system property {@value #PROPERTY} = {@code reference} forces the reference backend.
 */
public final class Int8Backends {

    /** System property naming the backend: {@code onednn} (default) or {@code reference}. */
    public static final String PROPERTY = "ai.djlquant.kernel.backend";

    private static final Logger logger = LoggerFactory.getLogger(Int8Backends.class);

    private Int8Backends() {}

    /**
     * Returns the backend chosen for this JVM.
     *
     * @return the backend
     */
    public static Int8Backend get() {
        return Holder.INSTANCE;
    }

    /**
     * Returns the oneDNN backend if it loaded, for tests and benchmarks that compare backends.
     *
     * @return the oneDNN backend, or null if oneDNN cannot load here
     */
    public static OneDnnBackend oneDnn() {
        return Holder.ONE_DNN;
    }

    private static final class Holder {
        static final OneDnnBackend ONE_DNN = loadOneDnn();
        static final Int8Backend INSTANCE = choose();

        private static OneDnnBackend loadOneDnn() {
            // libtorch first: libdnnl then binds to libtorch's OpenMP runtime (see OneDnnRuntime)
            if (Engine.hasEngine("PyTorch")) {
                Engine.getEngine("PyTorch");
            }
            try {
                return new OneDnnBackend();
            } catch (Throwable t) { // NOPMD: any native load failure means "use the fallback"
                logger.warn(
                        "oneDNN could not load ({}); int8 layers fall back to float kernels.",
                        t.toString());
                return null;
            }
        }

        private static Int8Backend choose() {
            String wanted = System.getProperty(PROPERTY, "onednn");
            if ("reference".equals(wanted)) {
                logger.info("int8 backend: reference (forced by -D{}=reference)", PROPERTY);
                return new ReferenceBackend();
            }
            if (ONE_DNN == null) {
                return new ReferenceBackend();
            }
            logger.debug(
                    "int8 backend: oneDNN on {}, {}-bit activations",
                    ONE_DNN.getIsa(),
                    ONE_DNN.getActivationBits());
            return ONE_DNN;
        }
    }
}
