package ai.djlquant.annotations;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public type, or every type of a package, as internal: public only because another
 * package of the library uses it. It is not part of the API; it may change or go in any release.
 * (Java without modules cannot hide a type another package uses; DJL's {@code internal} packages
 * and Lucene's {@code @lucene.internal} are the precedents.)
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.PACKAGE})
public @interface Internal {}
