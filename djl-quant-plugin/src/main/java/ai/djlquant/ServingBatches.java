package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djlquant.annotations.Internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Inputs of a given batch size made from kept calibration batches, for timing: the first {@code
 * n} rows (along axis 0), the rows repeated where fewer were kept. The arrays are made in the
 * manager of the array they come from; the caller frees them. Public only for the CLI, which makes
 * its tensor inputs the same way.
 */
@Internal
public final class ServingBatches {

    private ServingBatches() {}

    /**
     * Joins kept batches into one array of all their rows, if their other dimensions agree.
     *
     * @param batches the batches, at least one
     * @return all rows, or the first batch alone if the batches cannot be joined
     */
    static NDArray join(List<NDArray> batches) {
        if (batches.size() == 1) {
            return batches.get(0);
        }
        for (NDArray b : batches) {
            if (!b.getShape().slice(1).equals(batches.get(0).getShape().slice(1))) {
                return batches.get(0); // variable shapes (sequences): time on one batch
            }
        }
        return NDArrays.concat(new NDList(batches));
    }

    /**
     * Returns {@code n} rows of an array.
     *
     * @param all the rows available, at least one
     * @param n the rows wanted
     * @return the first {@code n} rows, repeating them from the start if there are fewer (the
     *     array itself if it has exactly {@code n})
     */
    public static NDArray rows(NDArray all, int n) {
        long have = all.getShape().get(0);
        if (n <= have) {
            // a copy, not a view: a view keeps the whole batch's storage and strides
            return n == have ? all : all.get(new NDIndex("0:" + n)).duplicate();
        }
        List<NDArray> parts = new ArrayList<>();
        for (long got = 0; got < n; got += have) {
            parts.add(all);
        }
        NDArray tiled = NDArrays.concat(new NDList(parts));
        return tiled.get(new NDIndex("0:" + n));
    }

    /**
     * Returns {@code n} rows of every array of a batch whose first dimension is the batch's.
     *
     * @param batch a batch
     * @param n the rows wanted
     * @return the batch with {@code n} rows, or null if an array's first dimension is not the
     *     batch size (it cannot be resized)
     */
    static NDList rows(NDList batch, int n) {
        long size = batch.get(0).getShape().get(0);
        NDList out = new NDList(batch.size());
        for (NDArray a : batch) {
            if (a.getShape().dimension() == 0 || a.getShape().get(0) != size) {
                return null;
            }
            out.add(rows(a, n));
        }
        return out;
    }
}
