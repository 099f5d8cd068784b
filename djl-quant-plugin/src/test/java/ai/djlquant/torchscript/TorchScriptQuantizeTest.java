package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djlquant.CalibrationData;
import ai.djlquant.LayerReport;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockRewriter;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ReluFusion;
import ai.djlquant.transform.Replacement;
import ai.djlquant.transform.RewriteLog;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * An imported model is an ordinary DJL tree for the quantizer: its BatchNorms fold into the
 * convolutions before them, its ReLUs fuse, its Linear and Conv children can be replaced, and the
 * forward uses the replacements.
 */
class TorchScriptQuantizeTest {

    private static List<NDList> batches(NDManager m, int n, Shape shape) {
        List<NDList> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new NDList(m.randomNormal(shape)));
        }
        return out;
    }

    private static int count(Block root, Class<?> type) {
        int n = 0;
        for (BlockNode node : BlockTree.walk(root).getNodes()) {
            n += node.getBlock().getClass() == type ? 1 : 0;
        }
        return n;
    }

    @Test
    void resnet18FoldsEveryBatchNormAndFusesItsReLUs() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("resnet18")) {
            Block root = model.getBlock();
            int convs = count(root, Conv2d.class);
            assertEquals(20, convs, "resnet18 has 20 convolutions (3 of them downsampling)");
            assertEquals(20, count(root, BatchNorm.class));
            QuantizationReport report = Quantizer.quantize(model,
                    CalibrationData.fromBatches(batches(model.getNDManager(), 4,
                            new Shape(2, 3, 64, 64))),
                    TestConfigs.bySqnr());
            int folded = 0;
            int fused = 0;
            for (LayerReport l : report.getLayers()) {
                folded += l.getFoldedBatchNorm() != null ? 1 : 0;
                fused += l.getFusedRelu() != null ? 1 : 0;
            }
            assertEquals(20, folded, report.toTable());
            // the stem's ReLU and the first ReLU of each of the 8 BasicBlocks follow a conv + bn;
            // the second one reads the residual sum
            assertEquals(9, fused, report.toTable());
            assertEquals(0, count(model.getBlock(), BatchNorm.class));
            assertTrue(report.count(QuantizationMode.FP32) < report.getLayers().size());
            assertTrue(report.getWholeModelSqnrDb() > 20, report.toTable());
        }
    }

    @Test
    void mobilenetV2FoldsEveryBatchNorm() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("mobilenet_v2")) {
            int bns = count(model.getBlock(), BatchNorm.class);
            assertTrue(bns > 30, "batch norms: " + bns);
            QuantizationReport report = Quantizer.quantize(model,
                    CalibrationData.fromBatches(batches(model.getNDManager(), 4,
                            new Shape(2, 3, 64, 64))),
                    TestConfigs.bySqnr());
            int folded = 0;
            for (LayerReport l : report.getLayers()) {
                folded += l.getFoldedBatchNorm() != null ? 1 : 0;
            }
            assertEquals(bns, folded, report.toTable());
            assertEquals(0, count(model.getBlock(), BatchNorm.class));
        }
    }

    /** The blocks of a tree that ReLU fusion's table recognises as {@code activation}. */
    private static int countActivations(Block root, FusedActivation activation, NDManager m) {
        int n = 0;
        for (BlockNode node : BlockTree.walk(root).getNodes()) {
            n += ReluFusion.activationOf(node.getBlock(), new Shape(2, 4), m) == activation ? 1 : 0;
        }
        return n;
    }

    @Test
    void mobilenetV2FusesEveryReLU6() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("mobilenet_v2")) {
            NDManager m = model.getNDManager();
            int relu6s = countActivations(model.getBlock(), FusedActivation.RELU6, m);
            // torchvision's ReLU6 (hardtanh(x, 0., 6.)) after the stem, each expansion and each
            // depthwise convolution and the last 1x1: 1 + 1 + 16 * 2 + 1
            assertEquals(35, relu6s, "imported ReLU6 blocks");
            QuantizationReport report = Quantizer.quantize(model,
                    CalibrationData.fromBatches(batches(m, 4, new Shape(2, 3, 64, 64))),
                    TestConfigs.bySqnr());
            int fused = 0;
            for (LayerReport l : report.getLayers()) {
                if ("relu6".equals(l.getFusedActivation())) {
                    fused++;
                    assertEquals(null, l.getFusedRelu(), "a ReLU6 is not reported as a ReLU: " + l);
                    assertTrue(l.getFusedActivationPath() != null, l.toString());
                }
            }
            assertEquals(relu6s, fused, report.toTable());
            assertTrue(report.toTable().contains("+ReLU6"), report.toTable());
            assertEquals(0, countActivations(model.getBlock(), FusedActivation.RELU6, m),
                    "every ReLU6 gave way to a pass-through");
            System.out.printf(java.util.Locale.ROOT,
                    "mobilenet_v2 with %d ReLU6s fused: whole-model SQNR %.2f dB%n",
                    fused, report.getWholeModelSqnrDb());
        }
    }

    @Test
    void theBertEncodersLinearsQuantize() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("bert_encoder")) {
            int linears = count(model.getBlock(), Linear.class);
            List<NDList> cal = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                cal.add(new NDList(model.getNDManager()
                        .randomInteger(0, 100, new Shape(2, 16), DataType.INT64)));
            }
            QuantizationReport report = Quantizer.quantize(model,
                    CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
            assertEquals(14, linears, "4 projections and 2 feed-forward per layer, pooler, classifier");
            assertEquals(linears, report.count(QuantizationMode.STATIC)
                    + report.count(QuantizationMode.DYNAMIC), report.toTable());
            assertEquals(0, count(model.getBlock(), Linear.class));
            assertTrue(report.getWholeModelSqnrDb() > 20, report.toTable());
        }
    }

    @Test
    void aReplacedChildIsTheOneTheForwardCalls() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("resnet18");
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            BlockTree tree = BlockTree.walk(model.getBlock());
            BlockNode fc = null;
            for (BlockNode n : tree.getNodes()) {
                if (n.getBlock() instanceof Linear) {
                    fc = n;
                }
            }
            assertTrue(fc != null && fc.getParent().getBlock() instanceof ScriptModuleBlock,
                    "the classifier is a child of the imported ResNet");
            Linear constant = Linear.builder().setUnits(10).build();
            constant.getParameters().get("weight").setArray(
                    model.getNDManager().zeros(new Shape(10, 64)));
            constant.getParameters().get("bias").setArray(
                    model.getNDManager().arange(10f).add(0.5f));
            constant.initialize(model.getNDManager(), DataType.FLOAT32, fc.getBlock().getInputShapes());
            new BlockRewriter(model).apply(tree,
                    List.of(new Replacement(fc.getBlock(), constant)), new RewriteLog());

            NDArray out = model.getBlock().forward(new ParameterStore(m, false),
                    new NDList(m.randomNormal(new Shape(3, 3, 64, 64))), false).singletonOrThrow();
            float[] got = out.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(i % 10 + 0.5f, got[i], 0f);
            }
        }
    }

    @Test
    void pathsAreTheTorchScriptNames() throws Exception {
        try (Model model = TorchScriptImporterTest.importFixture("resnet18")) {
            List<String> paths = new ArrayList<>();
            for (BlockNode n : BlockTree.walk(model.getBlock()).getNodes()) {
                paths.add(n.getPath());
            }
            String all = String.join("\n", paths);
            assertTrue(all.contains("conv1..avgpool"), all);
            // a torch.nn.Sequential is itself the SequentialBlock, its children named 0, 1, ...
            assertTrue(all.contains("conv1..avgpool/layer2/0/conv1..bn2/conv1"), all);
            assertTrue(all.contains("conv1..avgpool/layer2/0/downsample/0"), all);
            assertTrue(all.contains("fc"), all);
            try (Model again = TorchScriptImporterTest.importFixture("resnet18")) {
                List<String> second = new ArrayList<>();
                for (BlockNode n : BlockTree.walk(again.getBlock()).getNodes()) {
                    second.add(n.getPath());
                }
                assertEquals(paths, second, "two imports give the same paths");
            }
        }
    }
}
