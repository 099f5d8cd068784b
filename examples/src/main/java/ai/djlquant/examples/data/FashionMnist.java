package ai.djlquant.examples.data;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.translate.Pipeline;
import ai.djl.translate.Translator;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.List;

/**
 * The facts about Fashion-MNIST that every program shares: class names, image size, the
 * normalisation constants and the one preprocessing pipeline / translator built from them.
 *
 * <p>The preprocessing is DJL's: {@link ToTensor} turns a 28x28 grayscale image (HWC, uint8) into a
 * float tensor (1, 28, 28) in [0, 1], then {@link NormalizeGrayscale} subtracts {@link #MEAN} and
 * divides by {@link #STD}. Datasets, training, the evaluation harness and the translator users call
 * all go through {@link #newPipeline()}, so the same image always becomes the same tensor.
 */
public final class FashionMnist {

    /** Height and width of every image, in pixels. */
    public static final int IMAGE_SIZE = 28;

    /** Number of classes. */
    public static final int NUM_CLASSES = 10;

    /**
     * Mean of all pixels of the 60,000 training images after scaling to [0, 1] (0.2860406 to 7
     * digits; computed from train-images-idx3-ubyte).
     */
    public static final float MEAN = 0.2860406f;

    /**
     * Population standard deviation of the same pixels (0.3530242 to 7 digits; computed from
     * train-images-idx3-ubyte).
     */
    public static final float STD = 0.3530242f;

    /** The class names in label order, as published with the dataset. */
    public static final List<String> CLASS_NAMES =
            List.of(
                    "T-shirt/top",
                    "Trouser",
                    "Pullover",
                    "Dress",
                    "Coat",
                    "Sandal",
                    "Shirt",
                    "Sneaker",
                    "Bag",
                    "Ankle boot");

    /**
     * The folder name of each class in an image-folder tree: the label, a dash and the class name
     * in lower case, so that sorting the folder names gives label order.
     */
    public static final List<String> FOLDER_NAMES =
            List.of(
                    "0-tshirt-top",
                    "1-trouser",
                    "2-pullover",
                    "3-dress",
                    "4-coat",
                    "5-sandal",
                    "6-shirt",
                    "7-sneaker",
                    "8-bag",
                    "9-ankle-boot");

    private FashionMnist() {}

    /**
     * Returns a new preprocessing pipeline: {@link ToTensor} then {@link NormalizeGrayscale} with
     * {@link #MEAN} and {@link #STD}. It accepts one image (H, W, 1) or a batch (N, H, W, 1) of
     * uint8 pixels and gives (1, H, W) or (N, 1, H, W) float32.
     *
     * @return the pipeline
     */
    public static Pipeline newPipeline() {
        return new Pipeline(new ToTensor(), new NormalizeGrayscale(MEAN, STD));
    }

    /**
     * Returns the translator users call: a DJL {@link ImageClassificationTranslator} that reads the
     * image as grayscale, applies {@link #newPipeline()}, and turns the model's 10 logits into
     * {@link Classifications} over {@link #CLASS_NAMES} (softmax applied, top 3 kept for display).
     *
     * @return a new translator
     */
    public static Translator<Image, Classifications> newTranslator() {
        return ImageClassificationTranslator.builder()
                .optFlag(Image.Flag.GRAYSCALE)
                .setPipeline(newPipeline())
                .setImageSize(IMAGE_SIZE, IMAGE_SIZE)
                .optSynset(CLASS_NAMES)
                .optApplySoftmax(true)
                .optTopK(3)
                .build();
    }

    /**
     * Wraps raw grayscale pixels (row major, one byte each) as a DJL {@link Image}. The image is an
     * 8-bit gray image, exactly what DJL makes of a grayscale PNG, so both give the same tensor.
     *
     * @param pixels the pixel bytes
     * @param offset where the image starts in {@code pixels}
     * @param width the width in pixels
     * @param height the height in pixels
     * @return the image
     */
    public static Image toImage(byte[] pixels, int offset, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] target = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        System.arraycopy(pixels, offset, target, 0, width * height);
        return ImageFactory.getInstance().fromImage(image);
    }
}
