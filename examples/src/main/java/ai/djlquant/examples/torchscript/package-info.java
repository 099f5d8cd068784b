/**
 * TorchScript examples: a traced {@code .pt} imported as a DJL block tree ({@code
 * ai.djlquant.torchscript.TorchScriptImporter}), quantized, evaluated on the Fashion-MNIST test
 * split ({@link ai.djlquant.examples.torchscript.QuantizeTorchScript}), and timed against the same
 * {@code .pt} run by DJL's PyTorch engine as a TorchScript module ({@link
 * ai.djlquant.examples.torchscript.TorchScriptBenchmark}).
 */
package ai.djlquant.examples.torchscript;
