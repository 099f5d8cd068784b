package ai.djlquant.examples.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX files of (Fashion-)MNIST: unsigned-byte tensors with a big-endian header. Both the
 * gzip-compressed originals and uncompressed files are accepted (recognised by content, not name).
 *
 * <p>Every problem is reported as an {@link IOException} whose message names the file and says what
 * is wrong: missing, bad magic number, wrong dimensions, truncated, or bytes left over.
 */
public final class IdxFile {

    /** Magic number of an unsigned-byte tensor with three dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;

    /** Magic number of an unsigned-byte tensor with one dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxFile() {}

    /**
     * Reads an images file (magic 0x00000803: count, rows, columns, then the pixels).
     *
     * @param file the file (.gz or raw)
     * @return the images
     * @throws IOException if the file is missing, is not an images file, or is truncated
     */
    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = readHeaderInt(in, file, "magic number");
            checkMagic(file, magic, IMAGES_MAGIC, "images (unsigned bytes, 3 dimensions)");
            int count = readDimension(in, file, "image count");
            int rows = readDimension(in, file, "row count");
            int cols = readDimension(in, file, "column count");
            long size = (long) count * rows * cols;
            if (size > Integer.MAX_VALUE) {
                throw new IOException(
                        file + ": header announces " + size + " pixel bytes, too many to load");
            }
            byte[] pixels =
                    readBody(in, file, (int) size, count + " images of " + rows + "x" + cols);
            return new Images(count, rows, cols, pixels);
        }
    }

    /**
     * Reads a labels file (magic 0x00000801: count, then one byte per label).
     *
     * @param file the file (.gz or raw)
     * @return the labels, one unsigned byte each
     * @throws IOException if the file is missing, is not a labels file, or is truncated
     */
    public static byte[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = readHeaderInt(in, file, "magic number");
            checkMagic(file, magic, LABELS_MAGIC, "labels (unsigned bytes, 1 dimension)");
            int count = readDimension(in, file, "label count");
            return readBody(in, file, count, count + " labels");
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "IDX file not found");
        }
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                in = new GZIPInputStream(in, 1 << 16);
            }
            return new DataInputStream(in);
        } catch (IOException e) {
            in.close();
            throw new IOException(file + ": cannot read gzip stream: " + e.getMessage(), e);
        }
    }

    private static int readHeaderInt(DataInputStream in, Path file, String what)
            throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": truncated header, the file ends before the " + what);
        }
    }

    private static int readDimension(DataInputStream in, Path file, String what)
            throws IOException {
        int value = readHeaderInt(in, file, what);
        if (value < 0) {
            throw new IOException(file + ": corrupt header, negative " + what + " " + value);
        }
        return value;
    }

    private static void checkMagic(Path file, int magic, int expected, String kind)
            throws IOException {
        if (magic != expected) {
            throw new IOException(
                    String.format(
                            Locale.ROOT,
                            "%s: bad IDX magic number 0x%08x, expected 0x%08x for %s",
                            file,
                            magic,
                            expected,
                            kind));
        }
    }

    private static byte[] readBody(DataInputStream in, Path file, int size, String what)
            throws IOException {
        byte[] body = new byte[size];
        int read = in.readNBytes(body, 0, size);
        if (read < size) {
            throw new IOException(
                    file
                            + ": truncated, the header announces "
                            + what
                            + " ("
                            + size
                            + " bytes) but only "
                            + read
                            + " bytes follow");
        }
        if (in.read() != -1) {
            throw new IOException(
                    file + ": unexpected bytes after the " + what + " the header announces");
        }
        return body;
    }

    /** The content of an IDX images file: {@code count} images of {@code rows x cols} bytes. */
    public static final class Images {

        private final int count;
        private final int rows;
        private final int cols;
        private final byte[] pixels;

        Images(int count, int rows, int cols, byte[] pixels) {
            this.count = count;
            this.rows = rows;
            this.cols = cols;
            this.pixels = pixels;
        }

        /**
         * Returns the number of images.
         *
         * @return the number of images
         */
        public int getCount() {
            return count;
        }

        /**
         * Returns the height of each image.
         *
         * @return the number of rows
         */
        public int getRows() {
            return rows;
        }

        /**
         * Returns the width of each image.
         *
         * @return the number of columns
         */
        public int getCols() {
            return cols;
        }

        /**
         * Returns all pixels, image after image, row major (shared, not copied).
         *
         * @return the pixel bytes
         */
        public byte[] getPixels() {
            return pixels;
        }
    }
}
