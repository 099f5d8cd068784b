/**
 * The float reference models (CNN, residual network, MLP) built from DJL's own blocks, their {@link
 * ai.djl.nn.BlockFactory} implementations (so a saved model directory loads through plain {@code
 * Criteria}), and the program that trains them.
 */
package ai.djlquant.examples.models;
