package ai.djlquant.examples.data;

import ai.djl.ndarray.NDArray;
import ai.djl.translate.Transform;

/**
 * Normalises a one-channel image tensor: {@code (x - mean) / std}.
 *
 * <p>DJL's own {@code Normalize} builds a three-channel mean of shape (3, 1, 1), which either fails
 * on a one-value mean or silently broadcasts a (1, 28, 28) image to (3, 28, 28); grayscale needs
 * this scalar version. It works on a single image and on a batch alike.
 */
public class NormalizeGrayscale implements Transform {

    private final float mean;
    private final float std;

    /**
     * Creates the transform.
     *
     * @param mean the value subtracted from every pixel
     * @param std the value every pixel is divided by afterwards (must be positive)
     */
    public NormalizeGrayscale(float mean, float std) {
        if (!(std > 0f)) {
            throw new IllegalArgumentException("std must be positive, was " + std);
        }
        this.mean = mean;
        this.std = std;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray transform(NDArray array) {
        return array.sub(mean).divi(std);
    }
}
