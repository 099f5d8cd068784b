/**
 * Block-tree surgery: {@link ai.djlquant.transform.BlockTree} walks a tree and gives every block a
 * stable path; {@link ai.djlquant.transform.BlockRewriter} replaces blocks wherever they are
 * referenced (children lists, typed fields, lists, arrays, map values, the model's root), checking
 * every reference first and recording every change in a {@link
 * ai.djlquant.transform.RewriteLog} so it can be undone; {@link
 * ai.djlquant.transform.BatchNormFolding} folds a BatchNorm into the layer before it; {@link
 * ai.djlquant.transform.ReluFusion} finds a ReLU that only reads a layer's output.
 *
 * <p>This package knows nothing about kernels, observers or plans.
 */
@Internal
package ai.djlquant.transform;

import ai.djlquant.annotations.Internal;
