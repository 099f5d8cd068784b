package ai.djlquant.torchscript;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One TorchScript object of an archive's pickles (a module, usually): its class's qualified name
 * and the attributes of its pickled state, in the order torch wrote them (for a module:
 * parameters, buffers, submodules and plain attributes such as {@code training}).
 *
 * <p>Attribute values are the archive's values ({@link TorchScriptArchive} lists them): {@code
 * Long}, {@code Double}, {@code Boolean}, {@code String}, {@code null}, unmodifiable {@code List}
 * (pickled lists and tuples), unmodifiable {@code Map} (dicts, in insertion order), {@link
 * TensorData} and {@code ScriptObject}.
 *
 * @param qualifiedName the class, e.g. {@code __torch__.torchvision.models.resnet.ResNet} (with
 *     TorchScript's {@code ___torch_mangle_N} segments where torch wrote them)
 * @param attributes the state, name to value, unmodifiable
 */
public record ScriptObject(String qualifiedName, Map<String, Object> attributes) {

    /**
     * Keeps an unmodifiable copy of the attributes, in their order.
     *
     * @param qualifiedName the class
     * @param attributes the state
     */
    public ScriptObject {
        Objects.requireNonNull(qualifiedName, "qualifiedName");
        Objects.requireNonNull(attributes, "attributes");
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /**
     * The attribute {@code name} when it is an object (a submodule).
     *
     * @param name the attribute
     * @return the object, or empty when there is no such attribute or it is not an object
     */
    public Optional<ScriptObject> child(String name) {
        return attributes.get(name) instanceof ScriptObject o ? Optional.of(o) : Optional.empty();
    }

    /**
     * The attribute {@code name} when it is a tensor (a parameter or buffer).
     *
     * @param name the attribute
     * @return the tensor, or empty when there is no such attribute or it is not a tensor
     */
    public Optional<TensorData> tensor(String name) {
        return attributes.get(name) instanceof TensorData t ? Optional.of(t) : Optional.empty();
    }

    /**
     * The last segment of the qualified name, e.g. {@code ResNet}.
     *
     * @return the simple class name
     */
    public String simpleName() {
        return qualifiedName.substring(qualifiedName.lastIndexOf('.') + 1);
    }

    /**
     * The qualified name without TorchScript's {@code ___torch_mangle_N} segments (tracing gives
     * each distinct instance of a class its own mangled copy), e.g. {@code
     * __torch__.torch.nn.modules.conv.Conv2d} for {@code
     * __torch__.torch.nn.modules.conv.___torch_mangle_0.Conv2d}: the Python class it came from.
     *
     * @return the name with every mangle segment removed
     */
    public String unmangledName() {
        return qualifiedName.replaceAll("\\.___torch_mangle_[0-9]+(?=\\.)", "");
    }

    /**
     * The path, relative to the archive's {@code code/}, of the file that holds this class's
     * TorchScript source: the module part of the qualified name with dots as slashes, plus {@code
     * .py} (e.g. {@code __torch__/torch/nn/modules/conv/___torch_mangle_0.py}); look it up in
     * {@link TorchScriptArchive#sources()}.
     *
     * @return the source path
     */
    public String sourcePath() {
        int dot = qualifiedName.lastIndexOf('.');
        return (dot < 0 ? qualifiedName : qualifiedName.substring(0, dot)).replace('.', '/') + ".py";
    }

    @Override
    public String toString() {
        return "ScriptObject[" + qualifiedName + ", attributes " + attributes.keySet() + "]";
    }
}
