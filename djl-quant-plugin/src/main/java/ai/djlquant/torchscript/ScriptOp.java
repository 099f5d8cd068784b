package ai.djlquant.torchscript;

/** One entry of {@link ScriptOps}: an aten operator run with DJL NDArray operations. */
@FunctionalInterface
interface ScriptOp {

    /**
     * Runs the op.
     *
     * @param call the evaluated arguments
     * @return the result: an NDArray, a number, a boolean, a list, or null
     */
    Object apply(OpCall call);
}
