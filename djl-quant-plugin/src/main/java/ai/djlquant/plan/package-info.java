/**
 * The per-layer plan: which of STATIC, DYNAMIC and FP32 each quantizable layer gets. {@link
 * ai.djlquant.plan.ModeRules} holds what the user decided (by layer type, by path pattern,
 * exclusions); {@link ai.djlquant.plan.ModeChooser} applies the AUTO rule to the measured output
 * SQNR ({@link ai.djlquant.plan.SqnrMeter}) of each layer's int8 choices.
 *
 * <p>This package knows nothing about kernels or how the measurements were made: it gets numbers
 * and rules and gives decisions with their reasons.
 */
package ai.djlquant.plan;
