package ai.djlquant.artifact;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code <name>-0000.params} file, in DJL's own format (what {@code Model.save} writes and
 * {@code Model.load} reads: {@code "DJL@"}, format 1, model name, data type, input descriptions,
 * properties, then {@code Block.saveParameters}). Written here rather than by {@code Model.save},
 * which would point the user's model at the temporary export directory; read here so that the whole
 * file is checked (name, header, trailing bytes) and a failure names the layer at fault.
 */
final class ParamsFile {

    private static final String MAGIC = "DJL@";
    private static final int DJL_MODEL_FORMAT = 1;

    private ParamsFile() {}

    /**
     * Writes a block's parameters.
     *
     * @param file the file to create
     * @param modelName the model name in the header
     * @param block an initialised block
     * @throws IOException if writing fails
     */
    static void write(Path file, String modelName, Block block) throws IOException {
        try (OutputStream out = Files.newOutputStream(file);
                DataOutputStream dos = new DataOutputStream(new BufferedOutputStream(out))) {
            dos.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
            dos.writeInt(DJL_MODEL_FORMAT);
            dos.writeUTF(modelName);
            dos.writeUTF(DataType.FLOAT32.name());
            PairList<String, Shape> inputs = describeInput(block);
            dos.writeInt(inputs.size());
            for (Pair<String, Shape> in : inputs) {
                dos.writeUTF(in.getKey() == null ? "" : in.getKey());
                dos.write(in.getValue().getEncoded());
            }
            dos.writeInt(0); // no properties: the artifact's own files say everything
            block.saveParameters(dos);
        }
    }

    /**
     * The input names and shapes for the header. DJL's {@code describeInput} fails for a block
     * loaded from a file (input shapes, no input names) and gives null shapes where a block never
     * learnt them: the block's input shapes are used then, with empty names.
     */
    private static PairList<String, Shape> describeInput(Block block) {
        try {
            PairList<String, Shape> described = block.describeInput();
            if (!described.values().contains(null)) {
                return described;
            }
        } catch (IllegalArgumentException e) {
            // no input names: fall through
        }
        PairList<String, Shape> list = new PairList<>();
        for (Shape s : block.getInputShapes()) {
            list.add("", s);
        }
        return list;
    }

    /**
     * Loads a parameter file into a rebuilt tree.
     *
     * @param file the file
     * @param modelName the model name the header must hold
     * @param root the rebuilt root (not initialised)
     * @param manager the manager of the loaded arrays
     * @param factory the base factory's class name, for messages
     * @throws ArtifactException if the file does not fit the tree (naming the layer where reading
     *     stopped)
     */
    static void load(Path file, String modelName, Block root, NDManager manager, String factory)
            throws ArtifactException {
        String name = file.getFileName().toString();
        try (DataInputStream dis =
                new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            byte[] magic = new byte[4];
            dis.readFully(magic);
            if (!MAGIC.equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new ArtifactException(
                        name + " is not a DJL parameter file (no DJL@ header).");
            }
            int format = dis.readInt();
            if (format != DJL_MODEL_FORMAT) {
                throw new ArtifactException(
                        name
                                + " has DJL parameter format "
                                + format
                                + ", expected "
                                + DJL_MODEL_FORMAT
                                + ".");
            }
            String saved = dis.readUTF();
            if (!saved.equals(modelName)) {
                throw new ArtifactException(
                        name
                                + " holds the parameters of model '"
                                + saved
                                + "', not '"
                                + modelName
                                + "'.");
            }
            dis.readUTF(); // data type
            int inputs = dis.readInt();
            for (int i = 0; i < inputs; i++) {
                dis.readUTF();
                Shape.decode(dis);
            }
            int properties = dis.readInt();
            for (int i = 0; i < properties; i++) {
                dis.readUTF();
                dis.readUTF();
            }
            root.loadParameters(manager, dis);
            if (dis.read() != -1) {
                throw new ArtifactException(
                        name
                                + " has bytes after the last parameter of the architecture built by"
                                + " "
                                + factory
                                + ": the file belongs to a larger model.");
            }
        } catch (ArtifactException e) {
            throw e;
        } catch (IOException | MalformedModelException | RuntimeException e) {
            throw new ArtifactException(
                    name
                            + " does not fit the architecture built by "
                            + factory
                            + ": reading stopped at "
                            + firstUnloaded(root)
                            + " ("
                            + e
                            + ").",
                    e);
        }
    }

    /** The first parameter, in loading order, that has no value: where reading failed. */
    private static String firstUnloaded(Block root) {
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            for (Pair<String, Parameter> p : n.getBlock().getDirectParameters()) {
                if (!p.getValue().isInitialized()) {
                    return "layer "
                            + n.displayPath()
                            + " ("
                            + n.getType()
                            + "), parameter '"
                            + p.getKey()
                            + "'";
                }
            }
        }
        return "the end of the file";
    }

    /**
     * Lists every parameter of a tree with its data type and shape, in loading order.
     *
     * @param root an initialised root
     * @return {@code path/name} to {@code "INT8 (16, 1, 3, 3)"}
     */
    static Map<String, String> describeParameters(Block root) {
        Map<String, String> m = new LinkedHashMap<>();
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            for (Pair<String, Parameter> p : n.getBlock().getDirectParameters()) {
                String key = (n.getPath().isEmpty() ? "" : n.getPath() + "/") + p.getKey();
                Parameter param = p.getValue();
                m.put(
                        key,
                        param.isInitialized()
                                ? param.getArray().getDataType() + " " + param.getArray().getShape()
                                : "(no value)");
            }
        }
        return m;
    }
}
