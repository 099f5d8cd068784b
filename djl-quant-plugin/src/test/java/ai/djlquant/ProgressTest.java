package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every long step of a quantize call reports to the progress listener (the default listener is
 * DJL's ProgressBar once a step has run two seconds): calibrating counts samples, planning counts
 * layers, the accuracy goal counts its ranking measurements and trials; each reaches its total.
 */
class ProgressTest {

    @Test
    void calibratingPlanningAndTheGoalReportTheirProgress() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(24).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(6).build());
        try (Model model = TestModels.model(b, new Shape(1, 16))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 16));
            RecordingProgress progress = new RecordingProgress();
            AtomicInteger calls = new AtomicInteger();
            // 1 on fp32, 0 after: the goal runs its whole budget
            AccuracyGoal goal = AccuracyGoal.of("m", m -> calls.getAndIncrement() == 0 ? 1 : 0, 0.1);
            Quantizer.quantize(
                    model,
                    CalibrationData.fromBatches(cal),
                    TestConfigs.builder().optProgress(progress).optAccuracyGoal(goal).build());
            assertEquals(List.of("Calibrating", "Planning", "Goal trials"), progress.messages());
            long[] totals = {32, 2, 4}; // samples; layers; 2 rankings + 2 trials
            for (int i = 0; i < totals.length; i++) {
                RecordingProgress.Step s = progress.steps.get(i);
                assertEquals(totals[i], s.total, s.message);
                assertEquals(totals[i] - 1, s.last, s.message + " reaches its total");
                assertTrue(s.ended, s.message + " ends");
            }
        }
    }
}
