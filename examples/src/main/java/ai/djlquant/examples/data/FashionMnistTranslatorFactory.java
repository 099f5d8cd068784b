package ai.djlquant.examples.data;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.translator.BaseImageTranslatorFactory;
import ai.djl.translate.Translator;

import java.util.Map;

/**
 * Makes {@link FashionMnist#newTranslator()} the default translator of a model directory: name it
 * as {@code translatorFactory} in {@code serving.properties} and {@code Criteria} for {@code
 * (Image, Classifications)} (or {@code Path}, {@code URL}, {@code InputStream} input) needs no
 * translator of its own.
 */
public class FashionMnistTranslatorFactory extends BaseImageTranslatorFactory<Classifications> {

    private static final long serialVersionUID = 1L;

    /** {@inheritDoc} */
    @Override
    protected Translator<Image, Classifications> buildBaseTranslator(
            Model model, Map<String, ?> arguments) {
        return FashionMnist.newTranslator();
    }

    /** {@inheritDoc} */
    @Override
    public Class<Classifications> getBaseOutputType() {
        return Classifications.class;
    }
}
