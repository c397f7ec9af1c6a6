// Peer plane: binary frames the relay forwards without reading. The first byte says what
// follows; everything after the handshake is an AEAD record (src/crypto/channel.ts).
export const FRAME_SHARE = 0x01; // CPace share: Y || AD (src/crypto/handshake.ts)
export const FRAME_CONFIRM = 0x02; // key-confirmation tag
export const FRAME_RECORD = 0x03; // ChaCha20-Poly1305 record
