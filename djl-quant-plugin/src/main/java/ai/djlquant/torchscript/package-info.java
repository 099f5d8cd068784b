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
 * <p>Importing ({@link ai.djlquant.torchscript.TorchScriptImporter}, {@link
 * ai.djlquant.torchscript.TorchScriptBlockFactory}): the {@code code/} sources are parsed by a
 * strict parser of the subset traced modules use ({@code ScriptParser}), each called method is
 * resolved into an IR ({@code MethodCompiler}, {@code ScriptIr}) whose ops come from one table
 * ({@code ScriptOps}), standard layers become DJL blocks ({@code LeafModules}), every other module
 * a {@link ai.djlquant.torchscript.ScriptModuleBlock} that runs its IR, and straight chains of
 * module calls plain SequentialBlocks ({@code ChainLowering}, {@link
 * ai.djlquant.torchscript.ScriptSequence}).
 *
 * <p>This package comes last in the package order; the reader uses only DJL and {@code
 * ai.djlquant.annotations}, the import also the artifact writer ({@code
 * TorchScriptBlockFactory.artifactWriter}).
 */
package ai.djlquant.torchscript;
