package ai.djlquant.observe;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Objects;

/**
 * Reads observers back from {@link Observer#toBytes()}.
 *
 * <p>Format (big-endian, as {@link java.io.DataOutputStream} writes): the magic {@code "DQOB"}, a
 * type byte, the type's format version byte, the finite and non-finite counts (two longs), then the
 * type's own state. A reader accepts every version up to its own and rejects newer ones with a
 * clear message.
 */
public final class Observers {

    static final int MAGIC = 0x44514F42; // "DQOB"
    static final byte MIN_MAX = 1;
    static final byte MOVING_AVERAGE = 2;
    static final byte PER_CHANNEL = 3;
    static final byte HISTOGRAM = 4;

    private Observers() {}

    /**
     * Reads an observer from bytes written by {@link Observer#toBytes()}.
     *
     * @param bytes the bytes
     * @return the observer, equal to the one that wrote the bytes
     * @throws IllegalArgumentException if the bytes are not an observer, are truncated, hold an
     *     unknown type, a newer format version, or an invalid state
     */
    public static Observer fromBytes(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (bytes.length < 4 || in.readInt() != MAGIC) {
                throw new IllegalArgumentException(
                        "observer bytes do not start with the magic \"DQOB\".");
            }
            byte type = in.readByte();
            byte version = in.readByte();
            AbstractObserver o;
            switch (type) {
                case MIN_MAX:
                    o = MinMaxObserver.read(in, version);
                    break;
                case MOVING_AVERAGE:
                    o = MovingAverageMinMaxObserver.read(in, version);
                    break;
                case PER_CHANNEL:
                    o = PerChannelMinMaxObserver.read(in, version);
                    break;
                case HISTOGRAM:
                    o = HistogramObserver.read(in, version);
                    break;
                default:
                    throw new IllegalArgumentException(
                            "observer bytes hold unknown observer type " + type + ".");
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException(
                        "observer bytes have " + in.available() + " trailing bytes.");
            }
            return o;
        } catch (EOFException e) {
            throw new IllegalArgumentException("observer bytes are truncated.", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("observer bytes cannot be read: " + e, e);
        }
    }

    /** Rejects format versions this reader does not know. */
    static void checkVersion(byte version, byte supported, String type) {
        if (version < 1 || version > supported) {
            throw new IllegalArgumentException(
                    type
                            + " bytes have format version "
                            + version
                            + ", this reader supports 1 to "
                            + supported
                            + ".");
        }
    }

    static long nonNegative(long v, String field) {
        if (v < 0) {
            throw new IllegalArgumentException(
                    "observer bytes hold a negative " + field + " (" + v + ").");
        }
        return v;
    }
}
