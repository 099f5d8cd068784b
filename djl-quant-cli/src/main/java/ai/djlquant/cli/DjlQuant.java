package ai.djlquant.cli;

import ai.djl.engine.Engine;
import ai.djlquant.artifact.ArtifactManifest;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * The {@code djl-quant} command: {@code quantize}, {@code inspect}, {@code eval}, {@code bench}
 * and {@code doctor}.
 * Run it with {@code ./djl-quant} from the repository root after the build.
 *
 * <p>Exit codes: 0 on success, 2 on bad arguments (the message names the argument), 1 on any other
 * failure (one line; the stack trace only with {@code --verbose}).
 */
@Command(
        name = "djl-quant",
        mixinStandardHelpOptions = true,
        versionProvider = DjlQuant.Version.class,
        description = "Post-training int8 quantization for DJL models.",
        subcommands = {
            QuantizeCommand.class,
            InspectCommand.class,
            EvalCommand.class,
            BenchCommand.class,
            DoctorCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Models: a reference model by name (cnn, resnet, mlp) or a DJL model directory",
            "(serving.properties naming a blockFactory), or an artifact written by 'quantize'.",
            "Exit codes: 0 success, 2 bad arguments, 1 failure."
        })
public final class DjlQuant implements Runnable {

    /** Exit code of a failure that is not about the arguments. */
    public static final int FAILURE = 1;

    /** Exit code of bad arguments. */
    public static final int BAD_ARGUMENTS = 2;

    @Option(
            names = "--verbose",
            scope = ScopeType.INHERIT,
            description = "Print the stack trace of a failure.")
    boolean verbose;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Without a subcommand: print the usage. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the command and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(
                execute(
                        args,
                        new PrintWriter(System.out, true),
                        new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command.
     *
     * @param args the arguments
     * @param out where results go
     * @param err where errors go
     * @return the exit code
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new DjlQuant());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(
                (e, a) -> {
                    CommandLine cmd = e.getCommandLine();
                    err.println(name(cmd) + ": " + e.getMessage());
                    err.println("Try '" + name(cmd) + " --help'.");
                    if (isVerbose(cmd)) {
                        e.printStackTrace(err);
                    }
                    err.flush();
                    return BAD_ARGUMENTS;
                });
        cl.setExecutionExceptionHandler(
                (e, cmd, parsed) -> {
                    err.println(name(cmd) + ": error: " + message(e));
                    if (isVerbose(cmd)) {
                        StringWriter sw = new StringWriter();
                        e.printStackTrace(new PrintWriter(sw));
                        err.print(sw);
                    } else {
                        err.println("(run with --verbose for the stack trace)");
                    }
                    err.flush();
                    return FAILURE;
                });
        int code = cl.execute(args);
        out.flush();
        return code;
    }

    private static String name(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName();
    }

    private static boolean isVerbose(CommandLine cmd) {
        CommandLine c = cmd;
        while (c.getParent() != null) {
            c = c.getParent();
        }
        Object root = c.getCommand();
        return root instanceof DjlQuant && ((DjlQuant) root).verbose;
    }

    /** The failure in one line: the message of the exception (or of its cause), else its type. */
    static String message(Throwable e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof java.nio.file.NoSuchFileException) {
            m = "no such file: " + m;
        }
        return m.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /** The version line: this library and DJL. */
    static final class Version implements CommandLine.IVersionProvider {
        /** {@inheritDoc} */
        @Override
        public String[] getVersion() {
            return new String[] {
                "djl-quant "
                        + ArtifactManifest.libraryVersion()
                        + " (DJL "
                        + Engine.getDjlVersion()
                        + ", artifact format "
                        + ArtifactManifest.FORMAT_VERSION
                        + ")"
            };
        }
    }
}
