/**
 * Export and load of quantized models: {@link ai.djlquant.artifact.ArtifactWriter} writes a model
 * directory (DJL's {@code .params}, {@code serving.properties}, {@code quantization.json}) that
 * DJL's ordinary {@code Criteria} loads through {@link ai.djlquant.artifact.QuantizedBlockFactory},
 * and that {@link ai.djlquant.artifact.ArtifactLoader#load} loads without Criteria. Loading checks
 * versions, checksums, the architecture and every parameter before anything is used, and fails with
 * one {@link ai.djlquant.artifact.ArtifactException} naming what and where.
 *
 * <p>This package knows the int8 blocks ({@code nn}) and the tree walk ({@code transform}); it
 * knows nothing about calibration or planning: the quantizer's report is kept as JSON.
 */
package ai.djlquant.artifact;
