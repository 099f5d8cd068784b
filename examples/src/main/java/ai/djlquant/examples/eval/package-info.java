/**
 * The evaluation harness: top-1 accuracy and latency of any DJL model on the Fashion-MNIST test
 * split ({@link ai.djlquant.examples.eval.ModelEvaluator}, {@link
 * ai.djlquant.examples.eval.EvaluationResult}), and the main job that evaluates the committed
 * reference models ({@link ai.djlquant.examples.eval.EvaluateReferenceModels}).
 */
package ai.djlquant.examples.eval;
