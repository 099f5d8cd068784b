package ai.djlquant.torchscript;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 decoding that refuses malformed bytes instead of replacing them (both readers need it). */
final class StrictUtf8 {

    private StrictUtf8() {}

    /**
     * Decodes UTF-8 text.
     *
     * @param bytes the bytes
     * @return the text
     * @throws CharacterCodingException if the bytes are not valid UTF-8
     */
    static String decode(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }
}
