/** Annotations on the library's own types: {@link ai.djlquant.annotations.Internal}. */
package ai.djlquant.annotations;
