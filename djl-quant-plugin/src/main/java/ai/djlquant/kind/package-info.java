/**
 * The layer kinds: the one table from a float layer type to its int8 block, with what each kind
 * needs for observation, BatchNorm folding, quantization and artifact rebuilding ({@link
 * ai.djlquant.kind.LayerKinds}). Internal.
 */
@Internal
package ai.djlquant.kind;

import ai.djlquant.annotations.Internal;
