/** Runnable programs that use djl-quant: reference models, evaluation, benchmarks, walkthroughs. */
package ai.djlquant.examples;
