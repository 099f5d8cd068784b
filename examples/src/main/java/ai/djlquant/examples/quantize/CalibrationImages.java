package ai.djlquant.examples.quantize;

import ai.djl.modality.cv.Image;
import ai.djlquant.examples.data.ImageFolderDataset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The committed calibration subset as the images a user would hand to the Predictor. */
public final class CalibrationImages {

    private CalibrationImages() {}

    /**
     * Reads every image of a labelled image folder (the calibration subset is class-sorted; the
     * quantizer draws a uniform random subset when it needs fewer).
     *
     * @param dir the folder ({@code calibration-data/calibration})
     * @return the images, in folder order
     * @throws IOException if a file cannot be read
     */
    public static List<Image> load(Path dir) throws IOException {
        ImageFolderDataset ds = ImageFolderDataset.builder().setRoot(dir).setSampling(1, false)
                .build();
        ds.prepare();
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < ds.size(); i++) {
            images.add(ds.getImage(i));
        }
        return images;
    }
}
