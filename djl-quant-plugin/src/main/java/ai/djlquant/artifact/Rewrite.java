package ai.djlquant.artifact;

import ai.djlquant.artifact.ArtifactFormat.RewriteFields;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * One place of the tree whose block the artifact replaces, as an entry of the manifest's {@code
 * rewrites} array.
 *
 * @param path the place's path in the tree
 * @param base the description ({@link BlockSpec#describe}) of the block the base factory builds
 *     there
 * @param spec the block put in its place
 */
record Rewrite(String path, String base, BlockSpec spec) {

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty(RewriteFields.PATH, path);
        o.addProperty(RewriteFields.BASE, base);
        o.add(RewriteFields.BLOCK, spec.toJson());
        return o;
    }

    /**
     * Reads an entry written by {@link #toJson()}.
     *
     * @param e the entry
     * @param where its place in the manifest, for messages
     * @return the rewrite
     * @throws IllegalArgumentException naming the field that is missing or wrong
     */
    static Rewrite fromJson(JsonElement e, String where) {
        JsonObject o = Json.object(e, where);
        return new Rewrite(
                Json.string(o, RewriteFields.PATH, where),
                Json.string(o, RewriteFields.BASE, where),
                BlockSpec.fromJson(
                        o.get(RewriteFields.BLOCK), where + "." + RewriteFields.BLOCK));
    }
}
