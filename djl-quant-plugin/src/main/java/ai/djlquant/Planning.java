package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djlquant.observe.Observer;
import ai.djlquant.plan.LayerDecision;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SqnrMeter;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.util.List;

/**
 * The plan step: for each observed layer, the static activation parameters from its observer,
 * its static and dynamic int8 blocks, their output SQNR against the fp32 layer on the layer's
 * kept calibration inputs (only this layer quantized), and the decision.
 */
final class Planning {

    private Planning() {}

    static void plan(Session s) {
        for (QuantLayer layer : s.layers) {
            if (layer.observed == null) {
                layer.decision = unobservedDecision(s, layer);
                continue;
            }
            try {
                planLayer(s, layer);
            } finally {
                layer.recorder.closeSamples(); // bound the memory: one layer's samples at a time
            }
        }
    }

    private static LayerDecision unobservedDecision(Session s, QuantLayer layer) {
        if (layer.structuralReason != null) {
            return new LayerDecision(
                    QuantizationMode.FP32, layer.structuralReason, Double.NaN, Double.NaN);
        }
        return s.planner.decide(layer.choice, Double.NaN, Double.NaN, "it was not observed");
    }

    private static void planLayer(Session s, QuantLayer layer) {
        LayerRecorder rec = layer.recorder;
        if (rec.getUnsupportedInput() != null) {
            layer.decision =
                    new LayerDecision(
                            QuantizationMode.FP32,
                            rec.getUnsupportedInput(),
                            Double.NaN,
                            Double.NaN);
            return;
        }
        String unmeasured = null;
        Observer obs = rec.getActivation();
        if (rec.getCalls() == 0) {
            unmeasured = "no calibration batch reached it";
        } else if (obs.isEmpty()) {
            unmeasured = "its calibration inputs held no finite value";
        }
        if (obs.isEmpty()) {
            layer.activationParams = null;
        } else {
            QuantScheme scheme = QuantScheme.uint8Activation(s.activationBits);
            layer.activationParams = s.config.getRangeEstimator().estimate(obs, scheme);
            layer.staticBlock =
                    Int8Blocks.build(layer.floatBlock, layer.activationParams, layer.fusesRelu());
        }
        layer.dynamicBlock = Int8Blocks.build(layer.floatBlock, null, layer.fusesRelu());
        double[] sqnr = measure(s, layer);
        if (sqnr[2] > 0) {
            unmeasured = "its fp32 output or an int8 output held NaN or infinite values";
        }
        layer.decision = s.planner.decide(layer.choice, sqnr[0], sqnr[1], unmeasured);
        QuantizationMode m = layer.decision.getMode();
        if (m != QuantizationMode.STATIC) {
            Int8Blocks.release(layer.staticBlock);
            layer.staticBlock = null;
        }
        if (m != QuantizationMode.DYNAMIC) {
            Int8Blocks.release(layer.dynamicBlock);
            layer.dynamicBlock = null;
        }
    }

    /**
     * {static dB, dynamic dB, 1 if a sum was not finite}; NaN where not measured. Both run on the
     * kept calibration batches as they came: a dynamic layer's parameters come from the whole
     * input of a call, so its measurement holds for serving batches up to the calibration batch
     * size (smaller batches have narrower ranges), and a static layer's does not depend on it.
     */
    private static double[] measure(Session s, QuantLayer layer) {
        LayerRecorder rec = layer.recorder;
        layer.report.planSamples = rec.getKeptRows();
        List<NDArray> batches = rec.keptBatches();
        if (batches.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN, 0};
        }
        SqnrMeter stat = new SqnrMeter();
        SqnrMeter dyn = new SqnrMeter();
        try (NDManager scope = s.samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.attach(step);
                    NDArray ref = run(layer.floatBlock, store, x);
                    if (layer.fusesRelu()) {
                        ref = Activation.relu(ref);
                    }
                    if (layer.staticBlock != null) {
                        stat.add(ref, run(layer.staticBlock, store, x));
                    }
                    dyn.add(ref, run(layer.dynamicBlock, store, x));
                }
            }
        }
        boolean nonFinite = stat.isNonFinite() || dyn.isNonFinite();
        return new double[] {stat.decibels(), dyn.decibels(), nonFinite ? 1 : 0};
    }

    private static NDArray run(Block b, ParameterStore store, NDArray x) {
        return b.forward(store, new NDList(x), false).singletonOrThrow();
    }

    /** Describes static activation parameters: the grid and the float range it covers. */
    static String describeActivation(QuantParams p) {
        float scale = p.scale();
        int zp = p.zeroPoint();
        int qmax = p.getScheme().qmax();
        return String.format(
                java.util.Locale.ROOT,
                "uint%d scale=%.4g zp=%d range [%.4g, %.4g]",
                p.getScheme().getBits(),
                scale,
                zp,
                -zp * scale,
                (qmax - zp) * scale);
    }
}
