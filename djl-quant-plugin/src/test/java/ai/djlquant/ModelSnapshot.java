package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Everything about a model that a failed quantization must leave as it was: the root, the block
 * at every path, the parameters (names, objects, arrays, values), the output for an input, and
 * whatever else the test reads (typed fields).
 */
final class ModelSnapshot {

    private final Block root;
    private final List<String> paths = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<NDArray> arrays = new ArrayList<>();
    private final List<NDArray> values = new ArrayList<>();
    private final NDArray output;
    private final List<Object> extra;
    private final Function<Model, List<Object>> extraOf;

    private ModelSnapshot(Model model, NDArray x, Function<Model, List<Object>> extraOf) {
        root = model.getBlock();
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            paths.add(n.getPath());
            blocks.add(n.getBlock());
        }
        for (Pair<String, Parameter> p : root.getParameters()) {
            names.add(p.getKey());
            parameters.add(p.getValue());
            arrays.add(p.getValue().getArray());
            values.add(p.getValue().getArray().duplicate());
        }
        output = TestModels.run(model, x);
        this.extraOf = extraOf;
        extra = extraOf.apply(model);
    }

    static ModelSnapshot of(Model model, NDArray x) {
        return new ModelSnapshot(model, x, m -> new ArrayList<>());
    }

    static ModelSnapshot of(Model model, NDArray x, Function<Model, List<Object>> extra) {
        return new ModelSnapshot(model, x, extra);
    }

    /** Asserts that the model is exactly as it was. */
    void assertUnchanged(Model model, NDArray x) {
        assertSame(root, model.getBlock(), "root block");
        List<BlockNode> nodes = BlockTree.walk(model.getBlock()).getNodes();
        assertEquals(paths.size(), nodes.size(), "number of blocks");
        for (int i = 0; i < nodes.size(); i++) {
            assertEquals(paths.get(i), nodes.get(i).getPath());
            assertSame(blocks.get(i), nodes.get(i).getBlock(), "block at " + paths.get(i));
        }
        List<Pair<String, Parameter>> now = new ArrayList<>();
        model.getBlock().getParameters().forEach(now::add);
        assertEquals(names.size(), now.size(), "number of parameters");
        for (int i = 0; i < now.size(); i++) {
            assertEquals(names.get(i), now.get(i).getKey());
            assertSame(parameters.get(i), now.get(i).getValue(), names.get(i));
            assertSame(arrays.get(i), now.get(i).getValue().getArray(), names.get(i));
            assertTrue(values.get(i).contentEquals(now.get(i).getValue().getArray()), names.get(i));
        }
        assertTrue(output.contentEquals(TestModels.run(model, x)), "output");
        List<Object> e = extraOf.apply(model);
        assertEquals(extra.size(), e.size());
        for (int i = 0; i < e.size(); i++) {
            assertSame(extra.get(i), e.get(i), "extra " + i);
        }
    }
}
