package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The parser reads every source file torch wrote for the fixtures, and refuses the rest. */
class ScriptParserTest {

    static Stream<String> models() {
        return Fixtures.MODELS.stream();
    }

    @ParameterizedTest
    @MethodSource("models")
    void readsEveryFileOfTheFixtures(String name) throws Exception {
        TorchScriptArchive a = TorchScriptArchive.read(Fixtures.path(name));
        int classes = 0;
        int methods = 0;
        for (Map.Entry<String, String> e : a.sources().entrySet()) {
            for (ScriptClass c : ScriptParser.parse(e.getKey(), e.getValue())) {
                classes++;
                methods += c.methods().size();
                assertTrue(c.qualifiedName().startsWith("__torch__."), c.qualifiedName());
            }
        }
        assertTrue(classes > 5 && methods > 5, name + ": " + classes + " classes");
    }

    @Test
    void readsAResNetClass() throws Exception {
        String file = "__torch__/torchvision/models/resnet.py";
        String text = TorchScriptArchive.read(Fixtures.path("resnet18")).sources().get(file);
        ScriptClass resnet = ScriptParser.parse(file, text).get(0);
        assertEquals("__torch__.torchvision.models.resnet.ResNet", resnet.qualifiedName());
        assertEquals(List.of(), resnet.parameters());
        assertTrue(resnet.attributes().containsKey("fc"), resnet.attributes().toString());
        ScriptMethod forward = resnet.methods().get("forward");
        assertEquals(List.of("x"), forward.parameters());
        ScriptStatement last = forward.body().get(forward.body().size() - 1);
        assertTrue(last instanceof ScriptStatement.Return, last.toString());
    }

    @Test
    void readsLiteralsTupleUnpackingAndKeywords() throws Exception {
        String text = String.join("\n",
                "class M(Module):",
                "  __parameters__ = [\"weight\", ]",
                "  __buffers__ = []",
                "  weight : Tensor",
                "  __annotations__[\"0\"] = __torch__.X",
                "  def forward(self: __torch__.M,",
                "    x: Tensor) -> Tensor:",
                "    a, b = (x, -1)",
                "    c = torch.f(a, [1, 2], 1.0000000000000001e-05, float(\"inf\"), -float(\"inf\"),"
                        + " None, True, \"s\", k=False)",
                "    d = annotate(List[int], [])",
                "    e = getattr(self, \"0\")",
                "    return c",
                "");
        ScriptClass m = ScriptParser.parse("__torch__/m.py", text).get(0);
        assertEquals("__torch__.m.M", m.qualifiedName());
        assertEquals(List.of("weight"), m.parameters());
        assertTrue(m.attributes().containsKey("0"));
        List<ScriptStatement> body = m.methods().get("forward").body();
        ScriptStatement.Assign unpack = (ScriptStatement.Assign) body.get(0);
        assertEquals(List.of("a", "b"), unpack.targets());
        ScriptExpr.Call call = (ScriptExpr.Call) ((ScriptStatement.Assign) body.get(1)).value();
        assertEquals("torch.f", ScriptExpr.dotted(call.function()));
        assertEquals(1.0000000000000001e-05, ((ScriptExpr.Literal) call.args().get(2)).value());
        assertEquals(Double.POSITIVE_INFINITY, ((ScriptExpr.Literal) call.args().get(3)).value());
        assertEquals(Double.NEGATIVE_INFINITY, ((ScriptExpr.Literal) call.args().get(4)).value());
        assertEquals(null, ((ScriptExpr.Literal) call.args().get(5)).value());
        assertEquals("k", call.keywords().get(0).name());
        assertTrue(((ScriptStatement.Assign) body.get(2)).value() instanceof ScriptExpr.ListExpr);
        ScriptExpr.Attribute getattr =
                (ScriptExpr.Attribute) ((ScriptStatement.Assign) body.get(3)).value();
        assertEquals("0", getattr.name());
        assertEquals(9, body.get(1).line());
    }

    private static String refusal(String bodyLine) {
        String text = String.join("\n",
                "class M(Module):",
                "  def forward(self: __torch__.M,",
                "    x: Tensor) -> Tensor:",
                "    " + bodyLine,
                "    return x",
                "");
        ScriptSyntaxException e = assertThrows(ScriptSyntaxException.class,
                () -> ScriptParser.parse("__torch__/m.py", text));
        assertTrue(e.getMessage().contains("__torch__/m.py:4"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void refusesWhatIsNotInTheSubset() {
        assertTrue(refusal("if x:").startsWith("the 'if' statement"));
        assertTrue(refusal("while True:").startsWith("the 'while' statement"));
        assertTrue(refusal("for i in x:").startsWith("the 'for' statement"));
        assertTrue(refusal("y = lambda z: z").contains("lambda"));
        assertTrue(refusal("y = x + 1").startsWith("the binary operator '+'"));
        assertTrue(refusal("torch.relu(x)").startsWith("an expression statement"));
        assertTrue(refusal("y = {1: 2}").startsWith("a dict or set literal"));
        assertTrue(refusal("y = x.z[").contains("never closed"));
    }

    @Test
    void refusesAClassThatIsNotAModule() {
        ScriptSyntaxException e = assertThrows(ScriptSyntaxException.class,
                () -> ScriptParser.parse("__torch__/m.py", "class T(NamedTuple):\n  a : int\n"));
        assertTrue(e.getMessage().startsWith("a class derived from NamedTuple"), e.getMessage());
    }
}
