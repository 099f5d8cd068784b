/** Benchmark programs: each prints a table of fp32 baseline and measured cost side by side. */
package ai.djlquant.examples.bench;
