package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

/**
 * Remembers which NCHW-shaped outputs of the int8 convolutions are views of channels-last (NHWC)
 * memory, so that the next int8 convolution reads that memory as it is (permuting the view back
 * gives a contiguous NHWC tensor) instead of having it copied to NCHW and transposed back. DJL
 * exposes no strides, and its NDArrays compare by content, hence this identity set with weak keys.
 */
final class ChannelsLastViews {

    private static final Map<Key, Boolean> VIEWS = new HashMap<>();
    private static final ReferenceQueue<NDArray> GONE = new ReferenceQueue<>();

    private ChannelsLastViews() {}

    /** Records that {@code view} is NHWC memory permuted to the NCHW (or NWC to NCW) shape. */
    static synchronized void register(NDArray view) {
        expunge();
        VIEWS.put(new Key(view, GONE), Boolean.TRUE);
    }

    /** Returns whether {@code x} is such a view. */
    static synchronized boolean isChannelsLast(NDArray x) {
        return !VIEWS.isEmpty() && VIEWS.containsKey(new Key(x, null)) && !x.isReleased();
    }

    private static void expunge() {
        Object k;
        while ((k = GONE.poll()) != null) {
            VIEWS.remove(k);
        }
    }

    /** A weak reference compared by the identity of its referent. */
    private static final class Key extends WeakReference<NDArray> {
        private final int hash;

        Key(NDArray a, ReferenceQueue<NDArray> q) {
            super(a, q);
            hash = System.identityHashCode(a);
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key)) {
                return false;
            }
            NDArray a = get();
            return a != null && a == ((Key) o).get();
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
