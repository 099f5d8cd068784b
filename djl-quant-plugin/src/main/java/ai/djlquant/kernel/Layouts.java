package ai.djlquant.kernel;

/** Channels-first / channels-last conversion of plain arrays, for the reference kernel. */
final class Layouts {

    private Layouts() {}

    /** [N, C, S] (S = product of the spatial dims) from [N, S, C]. */
    static float[] toChannelsFirst(float[] v, long[] shape) {
        return transpose(v, shape, true);
    }

    /** [N, S, C] from [N, C, S]. */
    static float[] toChannelsLast(float[] v, long[] shape) {
        return transpose(v, shape, false);
    }

    private static float[] transpose(float[] v, long[] shape, boolean toFirst) {
        int n = (int) shape[0];
        int c = (int) shape[1];
        int s = v.length / Math.max(1, n * c);
        float[] out = new float[v.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < s; i++) {
                    int first = (b * c + ch) * s + i;
                    int last = (b * s + i) * c + ch;
                    if (toFirst) {
                        out[first] = v[last];
                    } else {
                        out[last] = v[first];
                    }
                }
            }
        }
        return out;
    }
}
