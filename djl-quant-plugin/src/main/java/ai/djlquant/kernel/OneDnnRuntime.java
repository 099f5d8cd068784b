package ai.djlquant.kernel;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide oneDNN state: the CPU engine, the ISA it runs, and the thread count of its
 * OpenMP runtime.
 *
 * <p>Threads: the presets ship their own {@code libgomp.so.1}, separate from the one inside
 * libtorch, so oneDNN's pool is not sized by DJL's {@code ai.djl.pytorch.num_threads}. Its size is
 * OpenMP's per-thread {@code nthreads-var}: {@code OMP_NUM_THREADS} when the library loads,
 * otherwise the CPU count, and changed only by {@code omp_set_num_threads}, which acts on the
 * calling thread alone. This class calls that function of the presets' libgomp (through JNA,
 * which DJL already brings) once per Java thread and thread count, so every call runs with the
 * count the caller asks for.
 */
final class OneDnnRuntime {

    private static final Logger logger = LoggerFactory.getLogger(OneDnnRuntime.class);

    private final engine cpu;
    private final int isa;
    private final boolean vnni;
    private final Function ompSetNumThreads;
    private final ThreadLocal<int[]> threadsOfThisThread = ThreadLocal.withInitial(() -> new int[1]);

    OneDnnRuntime() {
        cpu = new engine(engine.kind.cpu, 0);
        isa = dnnl.dnnl_get_effective_cpu_isa();
        vnni = hasVnni(isa);
        ompSetNumThreads = findOmpSetNumThreads();
    }

    engine engine() {
        return cpu;
    }

    /** Returns oneDNN's name of the ISA in use, e.g. {@code avx2}. */
    String isaName() {
        return dnnl.get_effective_cpu_isa().toString();
    }

    int isa() {
        return isa;
    }

    /**
     * Whether u8 x s8 products are summed into 32 bits (VNNI); without VNNI, pairs are summed into
     * saturating 16-bit lanes first (vpmaddubsw) and only 7-bit activations are exact.
     */
    boolean hasVnni() {
        return vnni;
    }

    boolean canSetThreads() {
        return ompSetNumThreads != null;
    }

    /** Makes oneDNN calls from the current thread use {@code threads} threads (0: leave as is). */
    void useThreads(int threads) {
        if (threads <= 0 || ompSetNumThreads == null) {
            return;
        }
        int[] current = threadsOfThisThread.get();
        if (current[0] != threads) {
            ompSetNumThreads.invokeVoid(new Object[] {threads});
            current[0] = threads;
        }
    }

    private static boolean hasVnni(int isa) {
        // every ISA oneDNN knows from avx2_vnni / avx512_core_vnni upwards has VNNI
        return isa != dnnl.dnnl_cpu_isa_sse41
                && isa != dnnl.dnnl_cpu_isa_avx
                && isa != dnnl.dnnl_cpu_isa_avx2
                && isa != dnnl.dnnl_cpu_isa_avx512_core
                && isa != dnnl.dnnl_cpu_isa_default;
    }

    private static Function findOmpSetNumThreads() {
        String path = Loader.getLoadedLibraries().get("gomp@.1");
        try {
            NativeLibrary lib = NativeLibrary.getInstance(path != null ? path : "gomp");
            return lib.getFunction("omp_set_num_threads");
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            logger.warn(
                    "Cannot reach omp_set_num_threads of oneDNN's OpenMP runtime ({}); oneDNN"
                            + " uses OMP_NUM_THREADS or all CPUs.",
                    e.getMessage());
            return null;
        }
    }
}
