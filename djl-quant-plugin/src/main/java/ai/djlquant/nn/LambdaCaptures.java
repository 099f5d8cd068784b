package ai.djlquant.nn;

import ai.djl.nn.LambdaBlock;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads what a DJL {@link LambdaBlock} made by {@code LambdaBlock.singleton(f, name)} holds: the
 * function {@code f} the singleton wrapper captured, and the values {@code f} captured, so that a
 * recogniser ({@link DjlMaxPool}) can tell which of DJL's factory
 * lambdas {@code f} is and with which arguments. Reflection on DJL's private field and the JVM's
 * lambda classes: every failure reads as "not known" (null), never as a guess.
 */
final class LambdaCaptures {

    private LambdaCaptures() {}

    /**
     * Returns the function a singleton LambdaBlock wraps, if it was made by {@code
     * LambdaBlock.singleton} (its function is a lambda capturing exactly one function).
     *
     * @param l the block
     * @return the wrapped function, or null
     */
    static Function<?, ?> singletonFunction(LambdaBlock l) {
        try {
            Field f = LambdaBlock.class.getDeclaredField("lambda");
            f.setAccessible(true);
            List<Object> outer = captured(f.get(l));
            return outer != null && outer.size() == 1 && outer.get(0) instanceof Function<?, ?> inner
                    ? inner
                    : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // not readable here (another DJL, a JDK that refuses the access)
        }
    }

    /**
     * Returns whether a function is a lambda (or method reference) written in {@code owner}.
     *
     * @param function the function
     * @param owner the class whose code it must come from
     * @return whether the JVM made its class for {@code owner}
     */
    static boolean isLambdaOf(Object function, Class<?> owner) {
        return function.getClass().isSynthetic()
                && function.getClass().getName().startsWith(owner.getName() + "$$Lambda");
    }

    /**
     * Returns the values a lambda object captured, in capture order (javac's field names {@code
     * arg$1}, {@code arg$2}, ..., sorted so that the order the JVM lists fields in is moot).
     *
     * @param lambda the lambda object
     * @return the values, or null if it is not a lambda or they cannot be read
     */
    static List<Object> captured(Object lambda) {
        if (lambda == null || !lambda.getClass().isSynthetic()) {
            return null;
        }
        try {
            List<Field> fields = new ArrayList<>();
            for (Field f : lambda.getClass().getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    fields.add(f);
                }
            }
            fields.sort(
                    (a, b) ->
                            a.getName().length() != b.getName().length()
                                    ? Integer.compare(a.getName().length(), b.getName().length())
                                    : a.getName().compareTo(b.getName()));
            List<Object> values = new ArrayList<>();
            for (Field f : fields) {
                f.setAccessible(true);
                values.add(f.get(lambda));
            }
            return values;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
