package ai.djlquant.torchscript;

import java.util.List;
import java.util.Map;

/**
 * A module class as {@code torch.jit.save} writes it under {@code code/}: its parameter and
 * buffer names, its attribute annotations (sub-modules among them) and its methods.
 *
 * @param qualifiedName the class's full name, {@code __torch__.torchvision.models.resnet.ResNet}
 *     (the name {@code data.pkl} gives its objects)
 * @param parameters the {@code __parameters__} names
 * @param buffers the {@code __buffers__} names
 * @param attributes the annotated attributes: name to the type as written
 * @param methods the methods by name, in source order
 * @param file the source file, relative to {@code code/}
 * @param line the line of the {@code class}
 */
record ScriptClass(
        String qualifiedName,
        List<String> parameters,
        List<String> buffers,
        Map<String, String> attributes,
        Map<String, ScriptMethod> methods,
        String file,
        int line) {}
