/**
 * Reading TorchScript archives (the {@code .pt} files {@code torch.jit.save} writes) in Java,
 * without PyTorch: {@link ai.djlquant.torchscript.TorchScriptArchive#read} gives the module tree
 * ({@link ai.djlquant.torchscript.ScriptObject}), its tensors ({@link
 * ai.djlquant.torchscript.TensorData}, views into the archive's storages), the tensor constants and
 * the TorchScript source of every class. The pickles are read by a strict reader of the opcodes
 * torch writes ({@code PickleReader}) that constructs only an allow-list of globals and never
 * executes anything; every failure is one {@link
 * ai.djlquant.torchscript.TorchScriptFormatException} naming the archive, the entry and the fault.
 *
 * <p>This package comes last in the package order and uses only DJL and {@code
 * ai.djlquant.annotations}.
 */
package ai.djlquant.torchscript;
