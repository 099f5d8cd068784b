package ai.djlquant.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;

/**
 * Chooses the weight-only kernel once per JVM: the vector-API kernel when the JVM runs with {@code
 * --add-modules jdk.incubator.vector} (the library's launchers, benchmarks and tests pass it), else
 * {@link ScalarWeightOnlyKernel}, with one log line saying why. Nothing forces the incubating
 * module on users: without it weight-only layers still run, slower (and AUTO, which times them,
 * then keeps those layers as they were).
 *
 * <p>Measured on a 2-vCPU AVX-512 host, 1 thread, against DJL's fp32 Linear in one process: the
 * kernel alone (prototype, load 1-4) 8-bit 1x4096x4096 4.1x, 1x512x512 4.6x, 4-bit group 64 2.4x and
 * 2.1x; through the blocks ({@code WeightOnlyBenchmark}, load 5-6) 2.6x, 1.5x, 1.8x and 0.6x. oneDNN 3.11's matmul weight decompression (f32 source, s8/s4/u4 weights, {@code
 * fpmath_mode::strict} with {@code apply_to_int}: brgemm on {@code avx512_core}, weights widened to
 * f32 and f32 accumulation) ran 1.4x/1.9x (8-bit) and 0.8-0.9x (4-bit) at M = 1, because it
 * converts the weights into a buffer before its f32 GEMM; it wins only from M = 8 on (2x for 8-bit),
 * where DJL's own fp32 GEMM is compute-bound. It is not used yet.
 *
 * <p>The system property {@value #PROPERTY} = {@code scalar} forces the plain-Java kernel.
 */
public final class WeightOnlyKernels {

    /** System property: {@code vector} (default when available) or {@code scalar}. */
    public static final String PROPERTY = "ai.djlquant.kernel.weightOnly";

    private static final Logger logger = LoggerFactory.getLogger(WeightOnlyKernels.class);

    private static final String VECTOR_CLASS = "ai.djlquant.kernel.VectorWeightOnlyKernel";

    private WeightOnlyKernels() {}

    /**
     * Builds the kernel for a weight.
     *
     * @param weights the quantized weight
     * @return the kernel of the implementation chosen for this JVM
     */
    public static WeightOnlyKernel create(WeightOnlyWeights weights) {
        Constructor<?> c = Holder.VECTOR;
        if (c != null) {
            try {
                return (WeightOnlyKernel) c.newInstance(weights);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof IllegalArgumentException) {
                    // this vector length cannot run the format: the plain kernel can
                    return new ScalarWeightOnlyKernel(weights);
                }
                throw new IllegalStateException("the vector kernel failed to build", e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("the vector kernel failed to build", e);
            }
        }
        return new ScalarWeightOnlyKernel(weights);
    }

    /**
     * Builds the plain-Java kernel whatever this JVM can run (tests compare the two).
     *
     * @param weights the quantized weight
     * @return the scalar kernel
     */
    public static WeightOnlyKernel scalar(WeightOnlyWeights weights) {
        return new ScalarWeightOnlyKernel(weights);
    }

    /**
     * Tells whether the vector kernel runs in this JVM.
     *
     * @return whether {@link #create} returns vector kernels
     */
    public static boolean isVectorized() {
        return Holder.VECTOR != null;
    }

    private static final class Holder {
        static final Constructor<?> VECTOR = load();

        private static Constructor<?> load() {
            if ("scalar".equals(System.getProperty(PROPERTY))) {
                logger.info("weight-only kernel: scalar ({}=scalar)", PROPERTY);
                return null;
            }
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                logger.info(
                        "weight-only kernel: scalar (the JVM runs without --add-modules"
                                + " jdk.incubator.vector; add it for the vector kernel)");
                return null;
            }
            try {
                Constructor<?> c =
                        Class.forName(VECTOR_CLASS)
                                .getDeclaredConstructor(WeightOnlyWeights.class);
                logger.debug("weight-only kernel: vector API");
                return c;
            } catch (ReflectiveOperationException | LinkageError e) {
                logger.info("weight-only kernel: scalar (vector kernel not loaded: {})", e.toString());
                return null;
            }
        }
    }
}
