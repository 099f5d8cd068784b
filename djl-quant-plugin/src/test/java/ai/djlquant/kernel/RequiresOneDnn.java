package ai.djlquant.kernel;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one gate of the tests that need the oneDNN backend ({@code @ExtendWith(RequiresOneDnn.class)}
 * on the class). Where oneDNN does not load, each of their tests is skipped, and the build output
 * says so loudly: a WARNING line per test class, and at the end of the run {@code WARNING: oneDNN
 * backend not loaded: N tests skipped: <reason>}. {@link OneDnnLoadsInCiTest} turns the skip into a
 * failure on CI.
 */
public final class RequiresOneDnn implements ExecutionCondition {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(RequiresOneDnn.class);

    /** Why oneDNN did not load, or null if it loaded. */
    static String whyNotLoaded() {
        if (Int8Backends.oneDnn() != null) {
            return null;
        }
        try {
            // Int8Backends logged the reason; loading again here fails the same way and gives it
            new OneDnnBackend();
            return "Int8Backends found no oneDNN backend";
        } catch (Throwable t) { // NOPMD: any load failure is the reason
            return t.toString();
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Skipped skipped =
                context.getRoot()
                        .getStore(NAMESPACE)
                        .getOrComputeIfAbsent(Skipped.class, k -> new Skipped(), Skipped.class);
        if (skipped.reason == null) {
            return ConditionEvaluationResult.enabled("oneDNN backend loaded");
        }
        if (context.getTestMethod().isEmpty()) {
            // the class runs (its @BeforeAll must not need oneDNN); its tests are skipped one by one
            System.out.println(
                    "WARNING: oneDNN backend not loaded: skipping the tests of "
                            + context.getDisplayName()
                            + ": "
                            + skipped.reason);
            return ConditionEvaluationResult.enabled("tests are checked one by one");
        }
        skipped.count.incrementAndGet();
        return ConditionEvaluationResult.disabled("oneDNN backend not loaded: " + skipped.reason);
    }

    /** The count for the whole run, printed when JUnit closes the root store at the end. */
    private static final class Skipped implements AutoCloseable {

        final String reason = whyNotLoaded();
        final AtomicInteger count = new AtomicInteger();

        @Override
        public void close() {
            if (reason != null) {
                System.out.println(
                        "WARNING: oneDNN backend not loaded: "
                                + count.get()
                                + " tests skipped: "
                                + reason);
            }
        }
    }
}
