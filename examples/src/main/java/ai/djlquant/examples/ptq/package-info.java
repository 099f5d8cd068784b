/**
 * The side-by-side measurement against PyTorch's eager post-training quantization: {@link
 * ai.djlquant.examples.ptq.ExportForPyTorch} writes each reference model's parameters, the exact
 * calibration images our quantizer uses, the preprocessed test split and our own fp32 and int8
 * top-1 as NumPy files ({@link ai.djlquant.examples.ptq.NpzWriter}); {@code
 * examples/scripts/ptq/compare_pytorch.py} rebuilds each model in torch.nn from them, checks its
 * fp32 top-1 equals ours, and runs PyTorch's PTQ recipes on the same weights and images.
 */
package ai.djlquant.examples.ptq;
