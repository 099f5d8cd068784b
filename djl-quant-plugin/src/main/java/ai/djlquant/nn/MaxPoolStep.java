package ai.djlquant.nn;

import ai.djlquant.kernel.MaxPool2dGeometry;
import ai.djlquant.kernel.Uint8MaxPool;

import java.nio.ByteBuffer;

/**
 * Max pooling as a step of an int8 chain: DJL's {@code Pool.maxPool2dBlock} between two
 * convolutions ({@link DjlMaxPool#identify}), run on the uint8 bytes ({@link Uint8MaxPool}); the
 * pooled bytes stay on the grid of the convolution after it, which is the grid the convolution
 * before it writes.
 *
 * @param geometry the pooling windows
 */
record MaxPoolStep(MaxPool2dGeometry geometry) implements GridStep {

    /** {@inheritDoc} */
    @Override
    public long[] outputShape(long[] inputShape) {
        return geometry.outputShape(inputShape);
    }

    /** {@inheritDoc} */
    @Override
    public void forward(ByteBuffer input, long[] inputShape, ByteBuffer output) {
        Uint8MaxPool.maxPool(input, inputShape, geometry, output);
    }
}
