package ai.djlquant.kind;

import com.google.gson.JsonObject;

import java.util.Locale;

/**
 * The structure of a Linear: its output units and whether it has a bias (its input size comes
 * from the shapes it is initialised with).
 *
 * @param units the output units
 * @param bias whether it has a bias
 */
public record DenseStructure(long units, boolean bias) implements LayerStructure {

    /** {@inheritDoc} */
    @Override
    public DenseStructure withBias(boolean withBias) {
        return new DenseStructure(units, withBias);
    }

    /** {@inheritDoc} */
    @Override
    public void writeTo(JsonObject o) {
        o.addProperty("units", units);
        o.addProperty("bias", bias);
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return String.format(Locale.ROOT, "units=%d, bias=%b", units, bias);
    }
}
