// A small RFB 3.8 client (RFC 6143) for the VNC comparison: just enough to pair with x11vnc
// without a password, ask for one encoding family, keep one incremental
// FramebufferUpdateRequest outstanding, and measure each FramebufferUpdate: its size on the wire,
// its rectangles and encodings, and when its last byte arrived. It decodes no pixels: ZRLE
// rectangles are length-prefixed, and Tight's compressed data carries a compact length after a
// few header bytes (RFC 6143 §7.7.6 and the TightVNC protocol notes), so message boundaries are
// found by reading headers only.
//
// The parser is a function of the bytes received so far: it either finds one whole message at
// the front of the buffer (and says how long it is) or says it needs more.
import { connect, type Socket } from 'node:net';

export const ENC_RAW = 0;
export const ENC_COPYRECT = 1;
export const ENC_TIGHT = 7;
export const ENC_ZRLE = 16;
export const ENC_DESKTOP_SIZE = -223;
export const ENC_LAST_RECT = -224;

export interface RfbUpdate {
  /** Bytes of the whole FramebufferUpdate message, headers included. */
  bytes: number;
  rects: number;
  /** Pixels covered by the rectangles. */
  area: number;
  /** Rectangles per encoding number. */
  encodings: Record<number, number>;
  /** performance.timeOrigin + performance.now() when its last byte was read. */
  at: number;
}

export interface RfbOptions {
  port: number;
  host?: string;
  encodings: number[];
  onUpdate: (u: RfbUpdate) => void;
  onReady?: (size: { width: number; height: number; name: string }) => void;
  onError?: (err: Error) => void;
}

const now = (): number => performance.timeOrigin + performance.now();

/** Compact length (Tight): 1 to 3 bytes, 7 bits each, low bits first. Null when incomplete. */
function compactLength(b: Buffer, o: number): { value: number; size: number } | null {
  if (o >= b.length) return null;
  let value = b[o]! & 0x7f;
  if ((b[o]! & 0x80) === 0) return { value, size: 1 };
  if (o + 1 >= b.length) return null;
  value |= (b[o + 1]! & 0x7f) << 7;
  if ((b[o + 1]! & 0x80) === 0) return { value, size: 2 };
  if (o + 2 >= b.length) return null;
  value |= b[o + 2]! << 14;
  return { value, size: 3 };
}

/**
 * Length of one rectangle's body at `o` (after its 12-byte header), or null when the buffer
 * does not hold it all yet. Pixel format: 32 bpp, depth 24 (so Tight sends 3-byte TPIXELs).
 */
export function rectBodyLength(b: Buffer, o: number, w: number, h: number, encoding: number): number | null {
  const need = (n: number): number | null => (o + n <= b.length ? n : null);
  switch (encoding) {
    case ENC_RAW:
      return need(w * h * 4);
    case ENC_COPYRECT:
      return need(4);
    case ENC_ZRLE: {
      if (o + 4 > b.length) return null;
      return need(4 + b.readUInt32BE(o));
    }
    case ENC_TIGHT: {
      if (o >= b.length) return null;
      const ctrl = b[o]!;
      const kind = ctrl >> 4;
      let p = o + 1;
      if (kind === 8) return need(1 + 3); // fill: one TPIXEL
      if (kind === 9 || kind === 10) {
        // JPEG (or TightPNG): a compact length and the data
        const len = compactLength(b, p);
        if (!len) return null;
        return need(1 + len.size + len.value);
      }
      if ((kind & 0x08) !== 0) throw new Error(`tight: unknown compression control ${ctrl}`);
      let filter = 0;
      if ((ctrl & 0x40) !== 0) {
        if (p >= b.length) return null;
        filter = b[p++]!;
      }
      let dataSize: number;
      if (filter === 1) {
        // palette: count-1, then the colours
        if (p >= b.length) return null;
        const colours = b[p++]! + 1;
        p += colours * 3;
        dataSize = colours === 2 ? ((w + 7) >> 3) * h : w * h;
      } else if (filter === 0 || filter === 2) {
        dataSize = w * h * 3;
      } else {
        throw new Error(`tight: unknown filter ${filter}`);
      }
      if (dataSize < 12) return need(p - o + dataSize);
      const len = compactLength(b, p);
      if (!len) return null;
      return need(p - o + len.size + len.value);
    }
    case ENC_DESKTOP_SIZE:
    case ENC_LAST_RECT:
      return 0;
    default:
      throw new Error(`encoding ${encoding} was not asked for`);
  }
}

/** One whole server message at the front of `b`: its length, and the update when it is one. */
export function parseServerMessage(b: Buffer): { length: number; update?: Omit<RfbUpdate, 'at'> } | null {
  if (b.length < 1) return null;
  switch (b[0]) {
    case 0: {
      if (b.length < 4) return null;
      const count = b.readUInt16BE(2);
      let o = 4;
      let area = 0;
      const encodings: Record<number, number> = {};
      let rects = 0;
      for (let i = 0; i < count; i++) {
        if (o + 12 > b.length) return null;
        const w = b.readUInt16BE(o + 4);
        const h = b.readUInt16BE(o + 6);
        const enc = b.readInt32BE(o + 8);
        o += 12;
        if (enc === ENC_LAST_RECT) break;
        const n = rectBodyLength(b, o, w, h, enc);
        if (n === null) return null;
        o += n;
        rects++;
        area += w * h;
        encodings[enc] = (encodings[enc] ?? 0) + 1;
      }
      return { length: o, update: { bytes: o, rects, area, encodings } };
    }
    case 1: {
      if (b.length < 6) return null;
      const n = 6 + b.readUInt16BE(4) * 6;
      return b.length >= n ? { length: n } : null;
    }
    case 2:
      return { length: 1 };
    case 3: {
      if (b.length < 8) return null;
      const n = 8 + b.readUInt32BE(4);
      return b.length >= n ? { length: n } : null;
    }
    default:
      throw new Error(`unknown server message ${b[0]}`);
  }
}

function setPixelFormat(): Buffer {
  const m = Buffer.alloc(20);
  m[0] = 0;
  // 32 bpp, depth 24, little-endian, true colour, 255 per channel, red at 16, green 8, blue 0.
  m[4] = 32;
  m[5] = 24;
  m[6] = 0;
  m[7] = 1;
  m.writeUInt16BE(255, 8);
  m.writeUInt16BE(255, 10);
  m.writeUInt16BE(255, 12);
  m[14] = 16;
  m[15] = 8;
  m[16] = 0;
  return m;
}

function setEncodings(encodings: number[]): Buffer {
  const m = Buffer.alloc(4 + encodings.length * 4);
  m[0] = 2;
  m.writeUInt16BE(encodings.length, 2);
  encodings.forEach((e, i) => m.writeInt32BE(e, 4 + i * 4));
  return m;
}

function updateRequest(incremental: boolean, width: number, height: number): Buffer {
  const m = Buffer.alloc(10);
  m[0] = 3;
  m[1] = incremental ? 1 : 0;
  m.writeUInt16BE(width, 6);
  m.writeUInt16BE(height, 8);
  return m;
}

/**
 * Connects, pairs (security type None), and keeps asking for incremental updates: a new
 * request goes out as soon as an update has arrived, as viewers do. Returns the socket.
 */
export function startRfbClient(opts: RfbOptions): Socket {
  const sock = connect(opts.port, opts.host ?? '127.0.0.1');
  sock.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let state: 'version' | 'security-types' | 'security-result' | 'server-init' | 'messages' = 'version';
  let width = 0;
  let height = 0;
  const fail = (msg: string): void => {
    opts.onError?.(new Error(msg));
    sock.destroy();
  };
  sock.on('error', (e) => opts.onError?.(e));
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (state === 'version') {
        if (buf.length < 12) return;
        if (!buf.subarray(0, 4).equals(Buffer.from('RFB '))) return fail('not an RFB server');
        buf = buf.subarray(12);
        sock.write('RFB 003.008\n');
        state = 'security-types';
      } else if (state === 'security-types') {
        if (buf.length < 1 || buf.length < 1 + buf[0]!) return;
        const types = [...buf.subarray(1, 1 + buf[0]!)];
        if (types.length === 0) return fail('server refused the connection');
        if (!types.includes(1)) return fail(`no "None" security type (offered ${types.join(',')})`);
        buf = buf.subarray(1 + types.length);
        sock.write(Buffer.from([1]));
        state = 'security-result';
      } else if (state === 'security-result') {
        if (buf.length < 4) return;
        if (buf.readUInt32BE(0) !== 0) return fail('security handshake failed');
        buf = buf.subarray(4);
        sock.write(Buffer.from([1])); // ClientInit: shared
        state = 'server-init';
      } else if (state === 'server-init') {
        if (buf.length < 24 || buf.length < 24 + buf.readUInt32BE(20)) return;
        width = buf.readUInt16BE(0);
        height = buf.readUInt16BE(2);
        const nameLen = buf.readUInt32BE(20);
        const name = buf.subarray(24, 24 + nameLen).toString('latin1');
        buf = buf.subarray(24 + nameLen);
        sock.write(Buffer.concat([setPixelFormat(), setEncodings(opts.encodings), updateRequest(false, width, height)]));
        state = 'messages';
        opts.onReady?.({ width, height, name });
      } else {
        let msg: ReturnType<typeof parseServerMessage>;
        try {
          msg = parseServerMessage(buf);
        } catch (e) {
          return fail((e as Error).message);
        }
        if (!msg) return;
        buf = buf.subarray(msg.length);
        if (msg.update) {
          sock.write(updateRequest(true, width, height));
          opts.onUpdate({ ...msg.update, at: now() });
        }
      }
    }
  });
  return sock;
}
