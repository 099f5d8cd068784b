package ai.djlquant;

import ai.djlquant.kernel.HostProbe;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * This host as the int8 layers see it: the CPU's ISA as oneDNN reports it, the activation width it
 * allows, the thread count, and the measured throughput of one compute-bound int8 Linear against
 * DJL's fp32 Linear on the same shape and threads ({@link #current()}; measured once per JVM and
 * thread count).
 *
 * <p>The ratio says what compute-bound layers (large batch or sequence, convolutions) can gain
 * here; memory-bound ones (a Linear at small M, where reading the weights dominates) gain from the
 * 4x smaller weights whatever the ratio is.
 *
 * @param isa oneDNN's effective ISA (e.g. {@code avx2}, {@code avx512_core_vnni}, {@code
 *     avx512_core_amx}), or {@code none} where oneDNN did not load
 * @param implementation the implementation oneDNN chose for the probe's int8 Linear
 * @param backend the int8 backend in use ({@code oneDNN} or the reference kernels)
 * @param activationBits the activation grid's width, 7 without VNNI, 8 with
 * @param threads the thread count the probe ran with (DJL's intra-op threads)
 * @param int8Gops the probe's int8 throughput, 10^9 operations (2 per multiply-add) per second
 * @param fp32Gflops the probe's fp32 throughput, 10^9 floating-point operations per second
 * @param ratio {@code int8Gops / fp32Gflops}
 * @param probeSeconds what measuring cost, once per JVM and thread count
 * @param sentence what the ratio means for this host's layers, one sentence
 */
public record HostProfile(
        String isa,
        String implementation,
        String backend,
        int activationBits,
        int threads,
        double int8Gops,
        double fp32Gflops,
        double ratio,
        double probeSeconds,
        String sentence) {

    /** Ratios at or above this are worth int8 on compute-bound layers (below: noise, packing). */
    static final double COMPUTE_GAIN = 1.3;

    /**
     * Returns this host's profile at DJL's current intra-op thread count, probing on the first
     * call for that count (a {@value ai.djlquant.kernel.HostProbe#M}x{@value
     * ai.djlquant.kernel.HostProbe#K}x{@value ai.djlquant.kernel.HostProbe#N} GEMM both ways,
     * alternating rounds, each side's fastest; 0.3-0.6 s on a 2-core AVX-512 host), from the cache after.
     *
     * @return the profile
     */
    public static HostProfile current() {
        return of(HostProbe.get());
    }

    /**
     * Returns this host's profile at a thread count, probing on the first call for that count.
     *
     * @param threads the thread count, at least 1
     * @return the profile
     */
    public static HostProfile current(int threads) {
        return of(HostProbe.get(threads));
    }

    private static HostProfile of(HostProbe.Measurement m) {
        double ratio = m.int8Gops() / m.fp32Gflops();
        return new HostProfile(
                m.isa(),
                m.implementation(),
                m.backend(),
                m.activationBits(),
                m.threads(),
                m.int8Gops(),
                m.fp32Gflops(),
                ratio,
                m.probeSeconds(),
                sentence(ratio, m.activationBits()));
    }

    /** The one sentence for a ratio: what compute-bound and memory-bound layers can expect. */
    static String sentence(double ratio, int activationBits) {
        String peak =
                String.format(
                        Locale.ROOT,
                        "int8 arithmetic (%d-bit activations) peaks at %.1fx fp32 here: ",
                        activationBits,
                        ratio);
        if (ratio >= COMPUTE_GAIN) {
            return peak
                    + "compute-bound layers (large batches, convolutions) gain up to that;"
                    + " memory-bound ones (small M Linear) gain from the 4x smaller weights too";
        }
        return peak
                + "compute-bound layers gain little or lose; memory-bound ones (small M Linear)"
                + " still gain from the 4x smaller weights";
    }

    /**
     * Formats the profile as one line: ISA, activation bits, threads, both throughputs, the
     * ratio and its sentence.
     *
     * @return the line, without a line separator
     */
    public String toLine() {
        return String.format(
                Locale.ROOT,
                "host: %s (%s backend, %s), %d-bit activations, %d threads; GEMM %dx%dx%d int8"
                        + " %.1f GOPS vs fp32 %.1f GFLOPS = %.2fx; %s",
                isa,
                backend,
                implementation,
                activationBits,
                threads,
                HostProbe.M,
                HostProbe.K,
                HostProbe.N,
                int8Gops,
                fp32Gflops,
                ratio,
                sentence);
    }

    /**
     * Returns the profile as a JSON-ready map (the report's and {@code djl-quant doctor
     * --json}'s {@code host} object).
     *
     * @return field name to value, in a fixed order
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("isa", isa);
        m.put("implementation", implementation);
        m.put("backend", backend);
        m.put("activationBits", activationBits);
        m.put("threads", threads);
        m.put("probeShape", HostProbe.M + "x" + HostProbe.K + "x" + HostProbe.N);
        m.put("int8Gops", QuantizationReport.jsonNumber(int8Gops));
        m.put("fp32Gflops", QuantizationReport.jsonNumber(fp32Gflops));
        m.put("ratio", QuantizationReport.jsonNumber(ratio));
        m.put("probeSeconds", QuantizationReport.jsonNumber(probeSeconds));
        m.put("sentence", sentence);
        return m;
    }
}
