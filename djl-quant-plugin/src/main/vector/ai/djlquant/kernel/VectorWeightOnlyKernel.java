package ai.djlquant.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * The weight-only kernel on the JDK's vector API (incubating in JDK 17: this class is compiled
 * apart from the rest of the library, and {@link WeightOnlyKernels} loads it only when the JVM runs
 * with {@code --add-modules jdk.incubator.vector}).
 *
 * <p>The weights stay in their 8 or 4 bits in memory and are widened to float32 in registers: at
 * small batch a Linear reads its whole weight once per call, so a quarter (8-bit) or an eighth
 * (4-bit) of fp32's bytes is the speed-up's source. The arithmetic is {@link
 * ScalarWeightOnlyKernel}'s ({@code y = sum_g d_g * dot_g + c_g * xsum_g + b}), with each dot product
 * accumulated in one float32 lane per vector element and summed at the end; 8-bit runs four output
 * channels (and two rows) per pass so that each weight vector is widened once per pass, 4-bit four
 * channels per row so that each input vector is loaded once for four.
 */
final class VectorWeightOnlyKernel implements WeightOnlyKernel {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    private static final int L = F.length();
    /** Below this many multiply-adds a call stays on the caller's thread. */
    private static final long PARALLEL_WORK = 1L << 20;

    private final WeightOnlyWeights w;
    private final int k;
    private final int n;
    private final int kv; // K rounded down to whole vectors

    VectorWeightOnlyKernel(WeightOnlyWeights w) {
        if (w.format().bits() == 4 && (w.format().groupSize() / 2) % L != 0) {
            throw new IllegalArgumentException(
                    "the vector kernel needs half a group to be whole vectors of " + L + ".");
        }
        this.w = w;
        this.k = w.inputs();
        this.n = w.outputs();
        this.kv = k - k % L;
    }

    /** {@inheritDoc} */
    @Override
    public String implementation() {
        return "vector(" + F.vectorBitSize() + "-bit)";
    }

    /** {@inheritDoc} */
    @Override
    public void forward(FloatBuffer input, int rows, FloatBuffer output, int threads) {
        float[] x = new float[rows * k];
        input.duplicate().get(x);
        float[] y = new float[rows * n];
        int chunks =
                threads > 1 && (long) rows * n * k >= PARALLEL_WORK ? Math.min(threads, n / 4) : 1;
        if (chunks <= 1) {
            columns(x, rows, y, 0, n);
        } else {
            // whole blocks of four channels per chunk
            int per = (n / 4 + chunks - 1) / chunks * 4;
            IntStream.range(0, chunks)
                    .parallel()
                    .forEach(c -> columns(x, rows, y, c * per, Math.min(n, (c + 1) * per)));
        }
        output.duplicate().put(y);
    }

    private void columns(float[] x, int rows, float[] y, int from, int to) {
        if (from >= to) {
            return;
        }
        if (w.format().bits() == 8) {
            int m = 0;
            for (; m + 2 <= rows; m += 2) {
                int c = from;
                for (; c + 4 <= to; c += 4) {
                    w8Rows2(x, m, y, c);
                }
                for (; c < to; c++) {
                    w8One(x, m, y, c);
                    w8One(x, m + 1, y, c);
                }
            }
            for (; m < rows; m++) {
                int c = from;
                for (; c + 4 <= to; c += 4) {
                    w8Row(x, m, y, c);
                }
                for (; c < to; c++) {
                    w8One(x, m, y, c);
                }
            }
        } else {
            float[] xs = new float[w.format().groups(k)];
            for (int m = 0; m < rows; m++) {
                groupSums(x, m, xs);
                int c = from;
                for (; c + 4 <= to; c += 4) {
                    w4Cols4(x, m, xs, y, c);
                }
                for (; c < to; c++) {
                    w4One(x, m, xs, y, c);
                }
            }
        }
    }

    private FloatVector widen(byte[] v, int at) {
        return (FloatVector) ByteVector.fromArray(B, v, at).convertShape(VectorOperators.B2F, F, 0);
    }

    private float bias(int c) {
        float[] b = w.bias();
        return b == null ? 0f : b[c];
    }

    /** One row, four channels c..c+3. */
    private void w8Row(float[] x, int m, float[] y, int c) {
        byte[] v = w.values();
        int xo = m * k;
        int r0 = c * k;
        int r1 = r0 + k;
        int r2 = r1 + k;
        int r3 = r2 + k;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < kv; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + i);
            a0 = widen(v, r0 + i).fma(xv, a0);
            a1 = widen(v, r1 + i).fma(xv, a1);
            a2 = widen(v, r2 + i).fma(xv, a2);
            a3 = widen(v, r3 + i).fma(xv, a3);
        }
        finish(x, m, y, c, a0.reduceLanes(VectorOperators.ADD), a1.reduceLanes(VectorOperators.ADD),
                a2.reduceLanes(VectorOperators.ADD), a3.reduceLanes(VectorOperators.ADD));
    }

    /**
     * Two rows m, m+1, four channels c..c+3: each weight vector widened once for both rows. (Four
     * rows need 16 accumulators plus the weights, beyond what C2 keeps in registers: measured 10x
     * slower than one row at a time.)
     */
    private void w8Rows2(float[] x, int m, float[] y, int c) {
        byte[] v = w.values();
        int x0 = m * k;
        int x1 = x0 + k;
        int r0 = c * k;
        int r1 = r0 + k;
        int r2 = r1 + k;
        int r3 = r2 + k;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a02 = a00;
        FloatVector a03 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a12 = a00;
        FloatVector a13 = a00;
        for (int i = 0; i < kv; i += L) {
            FloatVector w0 = widen(v, r0 + i);
            FloatVector w1 = widen(v, r1 + i);
            FloatVector w2 = widen(v, r2 + i);
            FloatVector w3 = widen(v, r3 + i);
            FloatVector xa = FloatVector.fromArray(F, x, x0 + i);
            FloatVector xb = FloatVector.fromArray(F, x, x1 + i);
            a00 = w0.fma(xa, a00);
            a01 = w1.fma(xa, a01);
            a02 = w2.fma(xa, a02);
            a03 = w3.fma(xa, a03);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
            a12 = w2.fma(xb, a12);
            a13 = w3.fma(xb, a13);
        }
        finish(x, m, y, c, a00.reduceLanes(VectorOperators.ADD), a01.reduceLanes(VectorOperators.ADD),
                a02.reduceLanes(VectorOperators.ADD), a03.reduceLanes(VectorOperators.ADD));
        finish(x, m + 1, y, c, a10.reduceLanes(VectorOperators.ADD), a11.reduceLanes(VectorOperators.ADD),
                a12.reduceLanes(VectorOperators.ADD), a13.reduceLanes(VectorOperators.ADD));
    }

    /** The K tail (past whole vectors), then scale and bias, of one row and four channels. */
    private void finish(float[] x, int m, float[] y, int c, float s0, float s1, float s2, float s3) {
        byte[] v = w.values();
        int xo = m * k;
        int r0 = c * k;
        for (int i = kv; i < k; i++) {
            float xi = x[xo + i];
            s0 += xi * v[r0 + i];
            s1 += xi * v[r0 + k + i];
            s2 += xi * v[r0 + 2 * k + i];
            s3 += xi * v[r0 + 3 * k + i];
        }
        float[] s = w.scales();
        int yo = m * n + c;
        y[yo] = s[c] * s0 + bias(c);
        y[yo + 1] = s[c + 1] * s1 + bias(c + 1);
        y[yo + 2] = s[c + 2] * s2 + bias(c + 2);
        y[yo + 3] = s[c + 3] * s3 + bias(c + 3);
    }

    /** One row, one channel (the channels left over by the blocks of four). */
    private void w8One(float[] x, int m, float[] y, int c) {
        byte[] v = w.values();
        int xo = m * k;
        int r = c * k;
        FloatVector a = FloatVector.zero(F);
        for (int i = 0; i < kv; i += L) {
            a = widen(v, r + i).fma(FloatVector.fromArray(F, x, xo + i), a);
        }
        float t = a.reduceLanes(VectorOperators.ADD);
        for (int i = kv; i < k; i++) {
            t += x[xo + i] * v[r + i];
        }
        y[m * n + c] = w.scales()[c] * t + bias(c);
    }

    private void groupSums(float[] x, int m, float[] xs) {
        int gs = w.format().groupSize();
        int xo = m * k;
        for (int g = 0; g < xs.length; g++) {
            FloatVector a = FloatVector.zero(F);
            for (int i = 0; i < gs; i += L) {
                a = a.add(FloatVector.fromArray(F, x, xo + g * gs + i));
            }
            xs[g] = a.reduceLanes(VectorOperators.ADD);
        }
    }

    private FloatVector low(ByteVector b) {
        return (FloatVector) b.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
    }

    private FloatVector high(ByteVector b) {
        return (FloatVector) b.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0);
    }

    /** One row, four channels c..c+3 of a 4-bit weight: the input vectors loaded once for four. */
    private void w4Cols4(float[] x, int m, float[] xs, float[] y, int c) {
        byte[] v = w.values();
        float[] s = w.scales();
        float[] o = w.offsets();
        int gs = w.format().groupSize();
        int half = gs / 2;
        int groups = xs.length;
        int xo = m * k;
        int rb = k / 2;
        int r0 = c * rb;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z;
        FloatVector a1 = z;
        FloatVector a2 = z;
        FloatVector a3 = z;
        float o0 = 0f;
        float o1 = 0f;
        float o2 = 0f;
        float o3 = 0f;
        for (int g = 0; g < groups; g++) {
            FloatVector d0 = z;
            FloatVector d1 = z;
            FloatVector d2 = z;
            FloatVector d3 = z;
            int po = r0 + g * half;
            int xg = xo + g * gs;
            for (int j = 0; j < half; j += L) {
                FloatVector xl = FloatVector.fromArray(F, x, xg + j);
                FloatVector xh = FloatVector.fromArray(F, x, xg + half + j);
                ByteVector b0 = ByteVector.fromArray(B, v, po + j);
                ByteVector b1 = ByteVector.fromArray(B, v, po + rb + j);
                ByteVector b2 = ByteVector.fromArray(B, v, po + 2 * rb + j);
                ByteVector b3 = ByteVector.fromArray(B, v, po + 3 * rb + j);
                d0 = high(b0).fma(xh, low(b0).fma(xl, d0));
                d1 = high(b1).fma(xh, low(b1).fma(xl, d1));
                d2 = high(b2).fma(xh, low(b2).fma(xl, d2));
                d3 = high(b3).fma(xh, low(b3).fma(xl, d3));
            }
            int g0 = c * groups + g;
            int g1 = g0 + groups;
            int g2 = g1 + groups;
            int g3 = g2 + groups;
            a0 = d0.fma(FloatVector.broadcast(F, s[g0]), a0);
            a1 = d1.fma(FloatVector.broadcast(F, s[g1]), a1);
            a2 = d2.fma(FloatVector.broadcast(F, s[g2]), a2);
            a3 = d3.fma(FloatVector.broadcast(F, s[g3]), a3);
            o0 += (o == null ? -8f * s[g0] : o[g0]) * xs[g];
            o1 += (o == null ? -8f * s[g1] : o[g1]) * xs[g];
            o2 += (o == null ? -8f * s[g2] : o[g2]) * xs[g];
            o3 += (o == null ? -8f * s[g3] : o[g3]) * xs[g];
        }
        int yo = m * n + c;
        y[yo] = a0.reduceLanes(VectorOperators.ADD) + o0 + bias(c);
        y[yo + 1] = a1.reduceLanes(VectorOperators.ADD) + o1 + bias(c + 1);
        y[yo + 2] = a2.reduceLanes(VectorOperators.ADD) + o2 + bias(c + 2);
        y[yo + 3] = a3.reduceLanes(VectorOperators.ADD) + o3 + bias(c + 3);
    }

    /** One row, one channel of a 4-bit weight: per group a vector dot, scaled in vector form. */
    private void w4One(float[] x, int m, float[] xs, float[] y, int c) {
        byte[] v = w.values();
        float[] s = w.scales();
        float[] o = w.offsets();
        int gs = w.format().groupSize();
        int half = gs / 2;
        int groups = xs.length;
        int xo = m * k;
        int ro = c * (k / 2);
        FloatVector acc = FloatVector.zero(F);
        float off = 0f;
        for (int g = 0; g < groups; g++) {
            FloatVector dot = FloatVector.zero(F);
            int po = ro + g * half;
            int xg = xo + g * gs;
            for (int j = 0; j < half; j += L) {
                ByteVector bv = ByteVector.fromArray(B, v, po + j);
                FloatVector lo =
                        (FloatVector)
                                bv.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi =
                        (FloatVector)
                                bv.lanewise(VectorOperators.LSHR, 4)
                                        .convertShape(VectorOperators.B2F, F, 0);
                dot = lo.fma(FloatVector.fromArray(F, x, xg + j), dot);
                dot = hi.fma(FloatVector.fromArray(F, x, xg + half + j), dot);
            }
            int gi = c * groups + g;
            acc = dot.fma(FloatVector.broadcast(F, s[gi]), acc);
            off += (o == null ? -8f * s[gi] : o[gi]) * xs[g];
        }
        y[m * n + c] = acc.reduceLanes(VectorOperators.ADD) + off + bias(c);
    }
}
