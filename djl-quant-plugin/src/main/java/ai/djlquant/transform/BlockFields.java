package ai.djlquant.transform;

import ai.djl.nn.AbstractBaseBlock;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the fields of a block that reference other blocks: directly, in a list, an array or a
 * map's values (which the rewriter can update), or in another container (which it cannot). The
 * fields of DJL's own base classes ({@code children}, {@code parameters}) are not scanned: the
 * children list is handled on its own.
 */
final class BlockFields {

    /** How a field holds a block. */
    enum Kind {
        /** The field's value is the block. */
        DIRECT,
        /** An element of a {@link List}. */
        LIST,
        /** An element of an array. */
        ARRAY,
        /** A value of a {@link Map}. */
        MAP,
        /** An element of another container (a set, an optional): not updatable. */
        OTHER
    }

    /** One reference from a field of {@code owner} to {@code value}. */
    static final class Reference {
        final Object owner;
        final Field field;
        final Kind kind;
        final Object container;
        final Object slot;
        final Block value;

        Reference(Object owner, Field field, Kind kind, Object container, Object slot, Block value) {
            this.owner = owner;
            this.field = field;
            this.kind = kind;
            this.container = container;
            this.slot = slot;
            this.value = value;
        }

        String describe() {
            String where = field.getDeclaringClass().getSimpleName() + '.' + field.getName();
            switch (kind) {
                case LIST:
                case ARRAY:
                    return where + '[' + slot + ']';
                case MAP:
                    return where + "[\"" + slot + "\"]";
                default:
                    return where;
            }
        }
    }

    /** The references of one block, and the fields that could not be read. */
    static final class Scan {
        final List<Reference> references = new ArrayList<>();
        final List<String> unreadable = new ArrayList<>();
    }

    private BlockFields() {}

    /** Scans the instance fields of {@code owner}'s own classes (not DJL's base classes). */
    static Scan scan(Object owner) {
        Scan scan = new Scan();
        for (Class<?> c = owner.getClass(); isScanned(c); c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                    continue;
                }
                if (f.getType().isPrimitive() || isPlainValue(f.getType())) {
                    continue;
                }
                Object value;
                try {
                    f.setAccessible(true);
                    value = f.get(owner);
                } catch (RuntimeException | IllegalAccessException e) {
                    scan.unreadable.add(c.getSimpleName() + '.' + f.getName() + " (" + e + ')');
                    continue;
                }
                collect(owner, f, value, scan.references);
            }
        }
        return scan;
    }

    private static boolean isScanned(Class<?> c) {
        return c != null
                && c != Object.class
                && c != AbstractBlock.class
                && c != AbstractBaseBlock.class;
    }

    private static boolean isPlainValue(Class<?> type) {
        return type == String.class
                || Number.class.isAssignableFrom(type)
                || type == Boolean.class
                || type.isEnum();
    }

    private static void collect(Object owner, Field f, Object value, List<Reference> out) {
        if (value instanceof Block) {
            out.add(new Reference(owner, f, Kind.DIRECT, null, null, (Block) value));
        } else if (value instanceof List) {
            List<?> list = (List<?>) value;
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i) instanceof Block) {
                    out.add(new Reference(owner, f, Kind.LIST, list, i, (Block) list.get(i)));
                }
            }
        } else if (value instanceof Object[]) {
            Object[] array = (Object[]) value;
            for (int i = 0; i < array.length; i++) {
                if (array[i] instanceof Block) {
                    out.add(new Reference(owner, f, Kind.ARRAY, array, i, (Block) array[i]));
                }
            }
        } else if (value instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                if (e.getValue() instanceof Block) {
                    out.add(
                            new Reference(
                                    owner, f, Kind.MAP, value, e.getKey(), (Block) e.getValue()));
                }
            }
        } else if (value instanceof Collection) {
            for (Object o : (Collection<?>) value) {
                if (o instanceof Block) {
                    out.add(new Reference(owner, f, Kind.OTHER, value, null, (Block) o));
                }
            }
        } else if (value instanceof Optional && ((Optional<?>) value).orElse(null) instanceof Block) {
            Block b = (Block) ((Optional<?>) value).get();
            out.add(new Reference(owner, f, Kind.OTHER, value, null, b));
        }
    }

    /**
     * The class an element of a generic container field must be: the type argument at {@code
     * position} ({@code List<E>}: 0, {@code Map<K, V>}: 1), or Object if unknown.
     */
    static Class<?> elementType(Field f, int position) {
        Type t = f.getGenericType();
        if (t instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) t).getActualTypeArguments();
            if (position < args.length) {
                return rawClass(args[position]);
            }
        }
        return Object.class;
    }

    private static Class<?> rawClass(Type t) {
        if (t instanceof Class) {
            return (Class<?>) t;
        }
        if (t instanceof ParameterizedType) {
            return rawClass(((ParameterizedType) t).getRawType());
        }
        if (t instanceof WildcardType) {
            Type[] upper = ((WildcardType) t).getUpperBounds();
            return upper.length == 0 ? Object.class : rawClass(upper[0]);
        }
        if (t instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) t).getBounds();
            return bounds.length == 0 ? Object.class : rawClass(bounds[0]);
        }
        return Object.class;
    }
}
