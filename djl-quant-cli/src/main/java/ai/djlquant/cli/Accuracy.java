package ai.djlquant.cli;

import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.djlquant.ProgressSink;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Top-1 accuracy of an image classifier on labelled images, through its own Predictor. */
final class Accuracy {

    final int samples;
    final int correct;

    private Accuracy(int samples, int correct) {
        this.samples = samples;
        this.correct = correct;
    }

    double top1() {
        return samples == 0 ? 0 : (double) correct / samples;
    }

    /**
     * Measures top-1: a hit is a best class whose position in the classifier's class list is the
     * image's label. A progress bar shows once it has run two seconds (the library's).
     */
    static Accuracy measure(ZooModel<Image, Classifications> model, LabelledImages data, int limit)
            throws IOException, TranslateException {
        int n = Math.min(limit, data.size());
        int correct = 0;
        ProgressSink bar = new ProgressSink(null, "Evaluating", n);
        try (Predictor<Image, Classifications> p = model.newPredictor()) {
            for (int from = 0; from < n; from += 100) {
                int to = Math.min(n, from + 100);
                bar.advance(to - from);
                List<Image> batch = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    batch.add(data.image(i));
                }
                List<Classifications> out = p.batchPredict(batch);
                for (int i = from; i < to; i++) {
                    Classifications c = out.get(i - from);
                    if (c.getClassNames().indexOf(c.best().getClassName()) == data.label(i)) {
                        correct++;
                    }
                }
            }
        } finally {
            bar.end();
        }
        return new Accuracy(n, correct);
    }
}
