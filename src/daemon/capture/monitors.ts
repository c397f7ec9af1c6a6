// Monitor layout of an X display: RandR 1.5 GetMonitors (what desktops configure today), else
// Xinerama QueryScreens (older servers, nested setups), else the whole root as one monitor.
// Requests are built by hand because the x11 package's RandR helper predates GetMonitors.

import type { Monitor } from './backend.js';
import type { XConn } from './xconn.js';

function req(major: number, minor: number, words: number[], bytes: number[] = []): Buffer {
  // Header (opcode, minor opcode, length in 4-byte units) + CARD32 words + trailing CARD8s,
  // padded to a multiple of four bytes.
  const len = 4 + words.length * 4 + bytes.length;
  const padded = (len + 3) & ~3;
  const b = Buffer.alloc(padded);
  b[0] = major;
  b[1] = minor;
  b.writeUInt16LE(padded / 4, 2);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, 4 + i * 4));
  bytes.forEach((v, i) => (b[4 + words.length * 4 + i] = v));
  return b;
}

async function randrMonitors(conn: XConn): Promise<Monitor[] | null> {
  const ext = await conn.queryExtension('RANDR');
  if (!ext.present) return null;
  // RandR answers GetMonitors only to a client that announced 1.5 (randrproto.txt, 1.5).
  const [maj, min] = await conn.rawRequest('RRQueryVersion', req(ext.majorOpcode, 0, [1, 5]), (b) => [b.readUInt32LE(0), b.readUInt32LE(4)] as const);
  if (maj < 1 || (maj === 1 && min < 5)) return null;
  return conn.rawRequest('RRGetMonitors', req(ext.majorOpcode, 42, [conn.root], [1, 0, 0, 0]), (b) => {
    const n = b.readUInt32LE(4);
    const out: Monitor[] = [];
    let off = 24;
    for (let i = 0; i < n; i++) {
      // MONITORINFO: name ATOM, primary BOOL, automatic BOOL, noutput CARD16, x INT16, y INT16,
      // width CARD16, height CARD16, width-mm CARD32, height-mm CARD32, outputs LISTofCARD32.
      const primary = b[off + 4] === 1;
      const noutput = b.readUInt16LE(off + 6);
      out.push({ index: i, x: b.readInt16LE(off + 8), y: b.readInt16LE(off + 10), width: b.readUInt16LE(off + 12), height: b.readUInt16LE(off + 14), primary });
      off += 24 + noutput * 4;
    }
    return out;
  });
}

async function xineramaMonitors(conn: XConn): Promise<Monitor[] | null> {
  const ext = await conn.queryExtension('XINERAMA');
  if (!ext.present) return null;
  const active = await conn.rawRequest('XineramaIsActive', req(ext.majorOpcode, 4, []), (b) => b.readUInt32LE(0));
  if (!active) return null;
  return conn.rawRequest('XineramaQueryScreens', req(ext.majorOpcode, 5, []), (b) => {
    const n = b.readUInt32LE(0);
    const out: Monitor[] = [];
    for (let i = 0; i < n; i++) {
      const off = 24 + i * 8;
      out.push({ index: i, x: b.readInt16LE(off), y: b.readInt16LE(off + 2), width: b.readUInt16LE(off + 4), height: b.readUInt16LE(off + 6), primary: i === 0 });
    }
    return out;
  });
}

export async function queryMonitors(conn: XConn): Promise<Monitor[]> {
  const whole: Monitor[] = [{ index: 0, x: 0, y: 0, width: conn.screen.pixel_width, height: conn.screen.pixel_height, primary: true }];
  const fromRandr = (await randrMonitors(conn).catch(() => null)) ?? [];
  const fromXinerama = (await xineramaMonitors(conn).catch(() => null)) ?? [];
  // On a desktop both describe the same heads (the server derives Xinerama from RandR). A
  // server that joins several screens with Xinerama (Xephyr, Xnest, old multi-head setups)
  // answers RandR for its first screen only: then Xinerama's longer list is the truth.
  if (fromXinerama.length > fromRandr.length) return fromXinerama;
  if (fromRandr.length > 0) return fromRandr;
  return whole;
}
