package ai.djlquant.kernel;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The process-wide oneDNN state: the CPU engine, the ISA it runs, and the thread count of its
 * OpenMP runtime.
 *
 * <p>Threads. oneDNN (the presets are built with OpenMP) sizes its parallel regions by OpenMP's
 * per-thread {@code nthreads-var}: {@code OMP_NUM_THREADS} when libgomp loads, otherwise the CPU
 * count, changed only by {@code omp_set_num_threads}, which acts on the calling thread alone. Which
 * libgomp that is depends on the load order: the presets ship a {@code libgomp.so.1}, and DJL's
 * libtorch ships one whose file name is hashed but whose SONAME is also {@code libgomp.so.1}. If
 * libtorch is loaded first, the dynamic linker resolves {@code libdnnl.so.3}'s {@code libgomp.so.1}
 * to libtorch's copy and both libraries share one OpenMP runtime (one thread pool, no two pools
 * spinning against each other); if oneDNN is loaded first, each has its own. {@link Int8Backends}
 * loads the PyTorch engine before oneDNN for that reason. Either way this class calls {@code
 * omp_set_num_threads} of the runtime oneDNN is bound to (through JNA, which DJL already brings)
 * once per Java thread and thread count, so every call runs with the count the caller asks for (the
 * int8 blocks pass DJL's intra-op thread count).
 */
final class OneDnnRuntime {

    private static final Logger logger = LoggerFactory.getLogger(OneDnnRuntime.class);

    private final engine cpu;
    private final int isa;
    private final boolean vnni;
    private final Function ompSetNumThreads;
    private final boolean direct; // omp_set_num_threads bound by direct mapping (Omp)
    private final String openMpLibrary;
    private final ThreadLocal<int[]> threadsOfThisThread =
            ThreadLocal.withInitial(() -> new int[1]);

    OneDnnRuntime() {
        // a libgomp already in the process (libtorch's) is the one libdnnl will bind to
        String loaded = loadedOpenMp();
        cpu = new engine(engine.kind.cpu, 0);
        isa = dnnl.dnnl_get_effective_cpu_isa();
        vnni = hasVnni(isa);
        openMpLibrary = loaded != null ? loaded : Loader.getLoadedLibraries().get("gomp@.1");
        ompSetNumThreads = findOmpSetNumThreads(openMpLibrary);
        direct = ompSetNumThreads != null && registerDirect(openMpLibrary);
    }

    /** The path of the OpenMP runtime oneDNN runs on (shared with libtorch when it was first). */
    String openMpLibrary() {
        return openMpLibrary;
    }

    private static String loadedOpenMp() {
        Path maps = Paths.get("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return null;
        }
        try (Stream<String> lines = Files.lines(maps)) {
            List<String> found =
                    lines.map(l -> l.substring(l.lastIndexOf(' ') + 1))
                            .filter(p -> p.contains("/libgomp"))
                            .distinct()
                            .collect(Collectors.toList());
            // the presets' own libgomp already loaded: oneDNN came first, it runs on that one
            if (found.isEmpty() || found.stream().anyMatch(p -> p.contains("/org/bytedeco/"))) {
                return null;
            }
            return found.get(0);
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
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
            if (direct) {
                Omp.omp_set_num_threads(threads);
            } else {
                ompSetNumThreads.invokeVoid(new Object[] {threads});
            }
            current[0] = threads;
        }
    }

    /**
     * {@code omp_set_num_threads} by JNA direct mapping: a tiny layer on a 2-thread caller sets the
     * count to 1 and back on every call, and JNA's {@code Function.invokeVoid} (arguments boxed in
     * an array, converted per call) cost 366 ns a call against 125 ns direct (measured side by side,
     * 2 million calls each, 2-vCPU AVX-512 host under load 10): about 0.5 us of a 7-9 us call.
     */
    static final class Omp {
        private Omp() {}

        static native void omp_set_num_threads(int threads);
    }

    private static boolean registerDirect(String path) {
        try {
            Native.register(Omp.class, NativeLibrary.getInstance(path != null ? path : "gomp"));
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            logger.debug("omp_set_num_threads through JNA's Function: {}", e.getMessage());
            return false;
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

    private static Function findOmpSetNumThreads(String path) {
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
