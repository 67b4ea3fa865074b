package dev.kiln.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The {@code kiln} command. Run it with {@code ./kiln} from the repository root, or
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar cli/target/kiln.jar}.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0",
        description = "Kiln: a tensor engine for the JVM, and the tools to train models with it.",
        subcommands = {TrainCommand.class, CompareTorchCommand.class, CommandLine.HelpCommand.class})
public final class Kiln {
    private Kiln() {
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line with Kiln's settings: choices ({@code --model mlp}) match their lower-case
     * names, ignoring case; a usage error prints its message and where to find help; an error
     * raised while a command runs is printed as one line (its message and its causes' messages)
     * unless it is a bug (not an argument, state or I/O error), which prints its stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Kiln());
        cl.registerConverter(ModelKind.class, choices(ModelKind.class));
        cl.registerConverter(OptimizerKind.class, choices(OptimizerKind.class));
        cl.registerConverter(ScheduleKind.class, choices(ScheduleKind.class));
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine bad = ex.getCommandLine();
            PrintWriter err = bad.getErr();
            err.println(bad.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
            UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("Run '" + bad.getCommandSpec().qualifiedName() + " --help' for the options.");
            err.flush();
            return bad.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            PrintWriter err = line.getErr();
            err.println(line.getCommandSpec().qualifiedName() + ": " + messages(ex));
            if (!(ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof UncheckedIOException || ex instanceof IOException
                    || ex instanceof dev.kiln.kernels.cuda.CudaUnavailableException)) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return cl;
    }

    /** Converts a command-line word to the constant of {@code type} whose {@code toString()} it equals, ignoring case. */
    static <E extends Enum<E>> ITypeConverter<E> choices(Class<E> type) {
        return word -> {
            for (E e : type.getEnumConstants()) {
                if (e.toString().equalsIgnoreCase(word)) {
                    return e;
                }
            }
            throw new TypeConversionException("expected one of " + Arrays.toString(type.getEnumConstants()) + " but was '"
                    + word + "'");
        };
    }

    /** Rejects {@code value} of {@code option} below {@code min} as a usage error of the command. */
    static void atLeast(CommandSpec spec, String option, int value, int min) {
        if (value < min) {
            throw new ParameterException(spec.commandLine(), option + ": expected a number >= " + min + ", got " + value);
        }
    }

    private static String messages(Throwable ex) {
        StringBuilder sb = new StringBuilder(String.valueOf(ex.getMessage()));
        for (Throwable c = ex.getCause(); c != null; c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }
}
