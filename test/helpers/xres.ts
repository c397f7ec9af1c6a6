// Counts the clients connected to an X server through the X-Resource extension
// (XResQueryClients). A daemon that never opened the display adds no client; one that exited
// cleanly has given back its connection, and with it every resource the server kept for it.
import { XConn } from '../../src/daemon/capture/xconn.js';

export async function xClientCount(display: string): Promise<number> {
  const conn = await XConn.open(display);
  try {
    const ext = await conn.queryExtension('X-Resource');
    if (!ext.present) throw new Error('X-Resource extension missing');
    // XResQueryVersion (minor 0): client major 1, minor 2, two bytes of padding.
    await conn.rawRequest('XResQueryVersion', Buffer.from([ext.majorOpcode, 0, 2, 0, 1, 2, 0, 0]), () => 0);
    // XResQueryClients (minor 1). Reply body after the 8-byte header starts with num_clients.
    const n = await conn.rawRequest('XResQueryClients', Buffer.from([ext.majorOpcode, 1, 1, 0]), (b) => b.readUInt32LE(0));
    // Our own connection is one of them.
    return n - 1;
  } finally {
    await conn.close();
  }
}
