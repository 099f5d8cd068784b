/** Benchmarks of the int8 blocks against DJL's fp32 blocks, side by side in one process. */
package ai.djlquant.examples.bench;
