/**
 * The {@code djl-quant} command-line tool ({@link ai.djlquant.cli.DjlQuant}): {@code quantize} a
 * float model into an artifact, {@code inspect} an artifact, {@code eval} top-1 accuracy, {@code
 * bench} fp32 vs int8 latency.
 */
package ai.djlquant.cli;
