/**
 * Fashion-MNIST as DJL datasets: the IDX originals ({@link ai.djlquant.examples.data.IdxDataset}),
 * labelled PNG folders ({@link ai.djlquant.examples.data.ImageFolderDataset}), and the one
 * preprocessing every program and test shares ({@link ai.djlquant.examples.data.FashionMnist}).
 */
package ai.djlquant.examples.data;
