// The wire protocol version. Bumped on any incompatible change to either plane; bound into
// the CPace channel identifier so that two versions can never agree on a key.
export const PROTOCOL_VERSION = 1;

/** Largest relay-plane (JSON text) message anyone may send, in bytes. */
export const MAX_RELAY_MESSAGE_BYTES = 4096;

/** Largest application plaintext carried by one encrypted record. */
export const MAX_RECORD_PLAINTEXT = 1024 * 1024;

/**
 * Largest peer-plane (binary) frame: one record plus its header and tag, with headroom.
 * The relay's --max-message-bytes defaults to this.
 */
export const MAX_PEER_FRAME_BYTES = MAX_RECORD_PLAINTEXT + 1024;
