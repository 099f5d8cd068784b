/**
 * Export and load of quantized models: {@link ai.djlquant.artifact.ArtifactWriter} writes a model
 * directory (DJL's {@code .params}, {@code serving.properties}, {@code quantization.json}) that
 * DJL's ordinary {@code Criteria} loads through {@link ai.djlquant.artifact.QuantizedBlockFactory},
 * and that {@link ai.djlquant.artifact.ArtifactLoader#load} loads without Criteria. Loading checks
 * versions, checksums, the architecture and every parameter before anything is used, and fails with
 * one {@link ai.djlquant.artifact.ArtifactException} naming what and where.
 *
 * <p>{@link ai.djlquant.artifact.ArtifactFormat} holds the format: file names, version, field names
 * and {@code serving.properties} keys. The export stages the directory ({@code ExportDirectory}),
 * writes the parameters ({@code ParamsFile}), {@code serving.properties} ({@code
 * ServingProperties}) and the manifest ({@code ManifestWriter}), loads it back ({@code
 * ExportCheck}) and renames it into place; loading reads the manifest ({@code ManifestReader},
 * {@link ai.djlquant.artifact.ArtifactManifest}), checks the files ({@code ArtifactFiles}), and
 * rebuilds the tree ({@code BaseArchitecture}, {@code TreeRewrites}) before reading the parameters.
 *
 * <p>This package knows the int8 blocks ({@code nn}) and the tree walk ({@code transform}); it
 * knows nothing about calibration or planning: the quantizer's report is kept as JSON.
 */
package ai.djlquant.artifact;
