// The compression history both ends keep: the last HISTORY_BYTES of packed tile bodies sent in
// this session, used as the preset dictionary of the next update's deflate stream. This is what
// lets a glyph typed again cost a few bytes: it compresses against the same glyph sent earlier.
//
// Both sides change it only through encodeUpdate / decodeUpdate, in the same order, so they stay
// byte-identical. It starts over (reset) with the agent's picture: the first update, a new size,
// a resume. The seq of the last update it absorbed is kept so that an update continuing it can
// be checked to really follow on (docs/codec.md, "History").

/** Deflate's window: a dictionary longer than 32 KiB would not be used. */
export const HISTORY_BYTES = 32 * 1024;

export class CodecHistory {
  private buf = new Uint8Array(HISTORY_BYTES);
  private len = 0;
  /** The seq of the last update this history absorbed, or null when it holds no update (fresh or reset). */
  seq: number | null = null;
  /** The frame size of that update (a continuing update keeps it). */
  width = 0;
  height = 0;

  /** The bytes to use as the deflate dictionary (a view; copy before keeping). */
  get dictionary(): Uint8Array {
    return this.buf.subarray(HISTORY_BYTES - this.len);
  }

  reset(): void {
    this.len = 0;
    this.seq = null;
    this.width = 0;
    this.height = 0;
  }

  /** Records an update: its bodies join the tail of the history. */
  absorb(seq: number, width: number, height: number, bodies: Uint8Array): void {
    this.seq = seq;
    this.width = width;
    this.height = height;
    if (bodies.length === 0) return;
    if (bodies.length >= HISTORY_BYTES) {
      this.buf.set(bodies.subarray(bodies.length - HISTORY_BYTES));
      this.len = HISTORY_BYTES;
      return;
    }
    // The buffer holds the history right-aligned: shift the kept part left, append the new bytes.
    const keep = Math.min(this.len, HISTORY_BYTES - bodies.length);
    this.buf.copyWithin(HISTORY_BYTES - bodies.length - keep, HISTORY_BYTES - keep);
    this.buf.set(bodies, HISTORY_BYTES - bodies.length);
    this.len = keep + bodies.length;
  }
}
