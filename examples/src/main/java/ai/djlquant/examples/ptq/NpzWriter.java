package ai.djlquant.examples.ptq;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a NumPy {@code .npz} file: a zip archive with one {@code <name>.npy} entry per array, as
 * {@code numpy.savez_compressed} writes it, so that {@code numpy.load(file)[name]} returns the
 * array.
 *
 * <p>Each entry is NPY format version 1.0: the 6 magic bytes {@code \x93NUMPY}, the version bytes
 * 1 and 0, the header length {@code L} as a little-endian uint16, then {@code L} bytes of ASCII
 * header, a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3),
 * }} padded with spaces and ended by a newline so that {@code 10 + L} is a multiple of 64 (NumPy's
 * alignment), then the data in C order: little-endian float32 ({@code <f4}) or int64 ({@code
 * <i8}). An array of {@code prod(shape)} elements holds exactly that many values; a
 * zero-dimensional array (shape {@code ()}) holds one.
 */
public final class NpzWriter implements Closeable {

    /** NumPy aligns the data of a version 1.0 file to this many bytes. */
    static final int ALIGNMENT = 64;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private final Path file;
    private final ZipOutputStream zip;
    private final Set<String> names = new HashSet<>();

    private NpzWriter(Path file, ZipOutputStream zip) {
        this.file = file;
        this.zip = zip;
    }

    /**
     * Creates (or replaces) an {@code .npz} file.
     *
     * @param file the file to write
     * @return the writer; close it to finish the archive
     * @throws IOException if the file cannot be created
     */
    public static NpzWriter create(Path file) throws IOException {
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        ZipOutputStream zip = new ZipOutputStream(out);
        // the test split is 31 MB of floats: the fastest level still halves it
        zip.setLevel(Deflater.BEST_SPEED);
        return new NpzWriter(file, zip);
    }

    /**
     * Adds a float32 array.
     *
     * @param name the array's name ({@code numpy.load(file)[name]}); {@code /} is allowed
     * @param shape the shape, C order
     * @param data the values, {@code prod(shape)} of them
     * @throws IOException if the file cannot be written
     * @throws IllegalArgumentException naming the file and array if the name is empty or already
     *     written, a dimension is negative, or the data length differs from the shape's size
     */
    public void addFloats(String name, long[] shape, float[] data) throws IOException {
        check(name, shape, data.length);
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        start(name, "<f4", shape);
        for (float v : data) {
            if (!buffer.hasRemaining()) {
                flush(buffer);
            }
            buffer.putFloat(v);
        }
        flush(buffer);
        zip.closeEntry();
    }

    /**
     * Adds an int64 array.
     *
     * @param name the array's name ({@code numpy.load(file)[name]}); {@code /} is allowed
     * @param shape the shape, C order
     * @param data the values, {@code prod(shape)} of them
     * @throws IOException if the file cannot be written
     * @throws IllegalArgumentException naming the file and array if the name is empty or already
     *     written, a dimension is negative, or the data length differs from the shape's size
     */
    public void addLongs(String name, long[] shape, long[] data) throws IOException {
        check(name, shape, data.length);
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        start(name, "<i8", shape);
        for (long v : data) {
            if (!buffer.hasRemaining()) {
                flush(buffer);
            }
            buffer.putLong(v);
        }
        flush(buffer);
        zip.closeEntry();
    }

    /**
     * Finishes the archive.
     *
     * @throws IOException if the file cannot be written
     */
    @Override
    public void close() throws IOException {
        zip.close();
    }

    /**
     * Returns the NPY version 1.0 preamble of an array: magic, version, header length and the
     * padded header.
     *
     * @param descr the NumPy type string ({@code <f4}, {@code <i8})
     * @param shape the shape
     * @return the bytes before the data, a multiple of {@value #ALIGNMENT} long
     */
    static byte[] preamble(String descr, long[] shape) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i]);
            // Python's one-element tuple needs its comma: (3,)
            dims.append(shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        dims.append(")");
        String dict =
                String.format(
                        Locale.ROOT,
                        "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                        descr,
                        dims);
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int padding = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
        String header = dict + " ".repeat(padding) + "\n";
        byte[] text = header.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out =
                ByteBuffer.allocate(MAGIC.length + 2 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putShort((short) text.length).put(text);
        return out.array();
    }

    private void check(String name, long[] shape, long length) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException(file + ": an array needs a non-empty name");
        }
        long size = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        file + ": array '" + name + "' has a negative dimension in shape "
                                + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size != length) {
            throw new IllegalArgumentException(
                    file + ": array '" + name + "' of shape " + Arrays.toString(shape) + " needs "
                            + size + " values, got " + length);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException(
                    file + ": array '" + name + "' is already written");
        }
    }

    private void start(String name, String descr, long[] shape) throws IOException {
        zip.putNextEntry(new ZipEntry(name + ".npy"));
        zip.write(preamble(descr, shape));
    }

    private void flush(ByteBuffer buffer) throws IOException {
        zip.write(buffer.array(), 0, buffer.position());
        buffer.clear();
    }
}
