package ai.djlquant.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ai.djlquant.HostProfile;

import com.google.gson.GsonBuilder;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code djl-quant doctor}: this host as the int8 layers see it, the same {@link HostProfile} every
 * quantization report carries (ISA as oneDNN sees it, activation bits, threads, the measured
 * int8-vs-fp32 GEMM ratio and what it means), so a user can tell before quantizing what int8 will
 * buy on this machine.
 */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
            "This host as the int8 layers see it.",
            "The CPU's ISA as oneDNN sees it, the activation bits (7 without VNNI, 8 with), the"
                    + " threads, and a measured int8-vs-fp32 GEMM throughput ratio (a short probe,"
                    + " well under a second)."
        },
        sortOptions = false)
final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "PyTorch and oneDNN intra-op threads of the probe (default: the engine's).")
    Integer threads;

    @Option(names = "--json", description = "Print the profile as JSON instead of text.")
    boolean json;

    /** {@inheritDoc} */
    @Override
    public Integer call() {
        if (threads != null && threads < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--threads must be at least 1, got " + threads + ".");
        }
        Engine engine = Engine.getEngine("PyTorch");
        HostProfile host =
                threads == null ? HostProfile.current() : HostProfile.current(threads);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("djl", Engine.getDjlVersion());
            m.put("pytorch", engine.getVersion());
            m.put("cpus", Runtime.getRuntime().availableProcessors());
            m.put("engineThreads", JniUtils.getNumThreads());
            m.put("host", host.toMap());
            // no HTML escaping: oneDNN's implementation names hold '=' ("isa=avx2")
            out.println(
                    new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(m));
            out.flush();
            return 0;
        }
        String row = "%-18s %s%n";
        out.printf(
                Locale.ROOT,
                row,
                "versions",
                "DJL " + Engine.getDjlVersion() + ", PyTorch " + engine.getVersion());
        out.printf(Locale.ROOT, row, "CPUs", Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, row, "int8 backend", host.backend());
        out.printf(Locale.ROOT, row, "ISA (oneDNN)", host.isa());
        out.printf(Locale.ROOT, row, "implementation", host.implementation());
        out.printf(
                Locale.ROOT,
                row,
                "activation bits",
                host.activationBits()
                        + ("none".equals(host.isa())
                                ? " (no oneDNN: the int8 layers run float ops on this grid)"
                                : host.activationBits() == 8
                                ? " (VNNI: u8 x s8 products summed in int32)"
                                : " (no VNNI: 8 bits would saturate vpmaddubsw's int16 pairs)"));
        out.printf(Locale.ROOT, row, "threads", host.threads());
        out.printf(
                Locale.ROOT,
                row,
                "probe",
                host.toMap().get("probeShape")
                        + " Linear, int8 kernel vs DJL's fp32 linear, alternating rounds, fastest of each"
                        + String.format(Locale.ROOT, " (%.2f s)", host.probeSeconds()));
        out.printf(
                Locale.ROOT,
                row,
                "int8 GEMM",
                String.format(Locale.ROOT, "%.1f GOPS", host.int8Gops()));
        out.printf(
                Locale.ROOT,
                row,
                "fp32 GEMM",
                String.format(Locale.ROOT, "%.1f GFLOPS", host.fp32Gflops()));
        out.printf(
                Locale.ROOT,
                row,
                "int8 / fp32",
                String.format(Locale.ROOT, "%.2fx", host.ratio()));
        out.println(host.sentence() + ".");
        out.flush();
        return 0;
    }
}
