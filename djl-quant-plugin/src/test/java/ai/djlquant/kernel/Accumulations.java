package ai.djlquant.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The integer core of a kernel, for the exactness tests: {@code acc = sum(q * w)} of u8 input, no
 * zero point. The reference kernel gives it exactly in int32. A oneDNN kernel gives it through the
 * float path production runs: its weights must have unit scales and no bias, the input is passed as
 * floats with {@code scale = 1, zeroPoint = 0}, so the quantizing reorder returns {@code q}
 * unchanged and the output is {@code 1 * 1 * acc + 0}, the int32 sum as oneDNN's epilogue converts
 * it to float32 (exact up to 2<sup>24</sup>, rounded to float32 above, as {@link
 * KernelExactnessTest#sameAccumulation} allows).
 */
final class Accumulations {

    private Accumulations() {}

    /**
     * Returns the accumulations of {@code q} (unsigned bytes, row-major in {@code shape}).
     *
     * @param kernel a reference kernel, or a oneDNN kernel with unit weight scales and no bias
     * @param q the u8 input
     * @param shape the input shape
     * @param bits the activation bits the input fits (not more than the kernel's backend allows)
     * @return the accumulations, row-major in the output shape
     */
    static int[] of(Int8Kernel kernel, byte[] q, long[] shape, int bits) {
        if (q.length != KernelChecks.count(shape)) {
            throw new IllegalArgumentException(
                    "input holds "
                            + q.length
                            + " values, shape "
                            + java.util.Arrays.toString(shape));
        }
        if (kernel instanceof ReferenceKernel ref) {
            int[] qi = new int[q.length];
            for (int i = 0; i < q.length; i++) {
                qi[i] = q[i] & 0xFF;
            }
            return ref.accumulate(qi, shape, 0);
        }
        ByteBuffer in = ByteBuffer.allocateDirect(q.length * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < q.length; i++) {
            in.putFloat(i * 4, q[i] & 0xFF);
        }
        int n = (int) KernelChecks.count(kernel.outputShape(shape));
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        kernel.forward(in, shape, ActivationQuantization.fixed(1f, 0, bits), out, 0);
        int[] acc = new int[n];
        for (int i = 0; i < n; i++) {
            float y = out.getFloat(i * 4);
            acc[i] = (int) y;
            if (acc[i] != y) {
                throw new IllegalStateException("not an integer: " + y + " (unit scales?)");
            }
        }
        return acc;
    }
}
