// A promise-shaped wrapper around one connection of the `x11` npm package (pure-JS X11
// client). The package speaks callbacks, emits protocol errors of reply-less requests as a
// connection-wide 'error' event, and copies replies byte by byte; this file hides those three
// facts so capture and window listing only see `await conn.req(...)`.
//
// The package ships no types, so it is loaded through createRequire and described by the small
// interfaces below: only what rso uses, nothing more.

import { createRequire } from 'node:module';
import { RsoError } from '../../errors.js';

const require = createRequire(import.meta.url);

export interface XVisual {
  vid: number;
  class: number;
  bits_per_rgb: number;
  red_mask: number;
  green_mask: number;
  blue_mask: number;
}

export interface XScreen {
  root: number;
  pixel_width: number;
  pixel_height: number;
  root_visual: number;
  root_depth: number;
  depths: Record<number, Record<number, XVisual>>;
}

export interface XDisplayInfo {
  resource_base: number;
  image_byte_order: number;
  format: Record<number, { bits_per_pixel: number; scanline_pad: number }>;
  screen: XScreen[];
  max_request_length?: number;
}

export interface XEvent {
  type: number;
  name?: string;
  [field: string]: unknown;
}

/** The parts of the package's XClient that rso touches. */
interface RawClient {
  display: XDisplayInfo;
  seq_num: number;
  replies: Record<number, [(buf: Buffer, opt: number) => unknown, (err: unknown, res?: unknown) => unknown]>;
  pack_stream: RawPackStream;
  on(ev: 'event', cb: (e: XEvent) => void): void;
  on(ev: 'error', cb: (e: unknown) => void): void;
  on(ev: 'end', cb: () => void): void;
  require(ext: string, cb: (err: unknown, ext: unknown) => void): void;
  AllocID(): number;
  terminate(): void;
  stream: { on(ev: 'close', cb: () => void): void };
  [request: string]: unknown;
}

interface RawPackStream {
  readlist: Buffer[];
  length: number;
  offset: number;
  read_queue: { execute(s: RawPackStream): boolean }[];
  pack(format: string, args: unknown[]): RawPackStream;
  flush(): void;
  get(length: number, cb: (buf: Buffer) => void): void;
  resume(): void;
}

interface X11Module {
  createClient(opts: { display?: string }, cb: (err: unknown, display?: XDisplayInfo) => void): RawClient;
  eventMask: { StructureNotify: number; SubstructureNotify: number; PropertyChange: number };
}

const x11 = require('x11') as X11Module;

export const eventMask = x11.eventMask;

/** An X protocol error, with the numbers a log needs (never pixel data). */
function describeXError(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { message?: string; error?: number; majorOpcode?: number; minorOpcode?: number; badParam?: number };
    return `${o.message ?? 'X error'} (code ${o.error}, major ${o.majorOpcode}, minor ${o.minorOpcode}, value ${o.badParam})`;
  }
  return String(e);
}

export class XProtocolError extends Error {
  constructor(readonly request: string, readonly raw: unknown) {
    super(`${request}: ${describeXError(raw)}`);
  }
}

export class XConn {
  readonly display: XDisplayInfo;
  readonly screen: XScreen;
  readonly root: number;
  readonly displayName: string;
  private readonly client: RawClient;
  private readonly atoms = new Map<string, number>();
  private readonly eventListeners = new Set<(e: XEvent) => void>();
  private asyncErrors: unknown[] = [];
  private ended = false;
  /** close() was called: the end that follows is ours, not a lost server. */
  private closing = false;
  private readonly lostListeners = new Set<(err: RsoError) => void>();
  private readonly endWaiters: (() => void)[] = [];
  /** Rejecters of requests still waiting for a reply: a lost server must not hang them. */
  private readonly pending = new Set<(e: Error) => void>();

  private constructor(client: RawClient, display: XDisplayInfo, displayName: string) {
    this.client = client;
    this.display = display;
    this.displayName = displayName;
    const screen = display.screen[0];
    if (!screen) throw new RsoError('RSO_ERR_NO_DISPLAY', undefined, `display ${displayName} announced no screen`);
    this.screen = screen;
    this.root = screen.root;
    client.on('event', (e) => {
      for (const l of this.eventListeners) l(e);
    });
    // Errors of requests that have no reply (DamageCreate, ChangeWindowAttributes...) arrive
    // here; they are kept until the next sync() so the caller that caused them sees them.
    client.on('error', (e) => {
      this.asyncErrors.push(e);
    });
    client.on('end', () => this.markEnded());
    // A reset connection (server killed) closes without 'end'.
    client.stream.on('close', () => this.markEnded());
    fastFixedReads(client.pack_stream);
    wrapSequence(client);
  }

  /** The sequence number of the last request sent (16 bits, as the server counts). */
  get lastSequence(): number {
    return this.client.seq_num;
  }

  /** Connects to `display` (default $DISPLAY). Fails with RSO_ERR_NO_DISPLAY. */
  static open(display?: string): Promise<XConn> {
    const name = display ?? process.env.DISPLAY;
    if (!name) {
      return Promise.reject(new RsoError('RSO_ERR_NO_DISPLAY', 'No X display to capture: DISPLAY is not set.', 'DISPLAY unset'));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        reject(new RsoError('RSO_ERR_NO_DISPLAY', `Could not open the X display ${name}.`, describeXError(err)));
      };
      let client: RawClient;
      try {
        client = x11.createClient({ display: name }, (err, info) => {
          if (err || !info) return fail(err ?? 'no display info');
          if (settled) return;
          try {
            const conn = new XConn(client, info, name);
            settled = true;
            resolve(conn);
          } catch (e) {
            fail(e);
          }
        });
      } catch (e) {
        fail(e);
        return;
      }
      // A refused handshake is emitted as 'error' before the init callback ever runs.
      client.on('error', (e) => fail(e));
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Calls a core request of the package by name; resolves with its parsed reply. */
  req<T>(name: string, ...args: unknown[]): Promise<T> {
    const fn = this.client[name] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') return Promise.reject(new Error(`x11 has no request ${name}`));
    if (this.ended) return Promise.reject(new RsoError('RSO_ERR_CAPTURE', 'The X display connection is closed.', `${name} after close`));
    return new Promise<T>((resolve, reject) => {
      const pending = this.pending;
      pending.add(reject);
      // The callback must be a plain function (the package checks constructor.name) and must
      // return true on error, otherwise the package also emits the error connection-wide.
      const cb = function (err: unknown, res: unknown): boolean {
        pending.delete(reject);
        if (err) reject(new XProtocolError(name, err));
        else resolve(res as T);
        return true;
      };
      fn.call(this.client, ...args, cb);
    });
  }

  /** Sends a request with no reply (no callback). Errors surface at the next sync(). */
  send(name: string, ...args: unknown[]): void {
    const fn = this.client[name] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') throw new Error(`x11 has no request ${name}`);
    fn.call(this.client, ...args);
  }

  /**
   * Sends one raw request built by the caller (extension requests the package lacks) and
   * parses its reply. `body` is the whole request, length field included.
   */
  rawRequest<T>(name: string, body: Buffer, parse: (reply: Buffer, byte1: number) => T): Promise<T> {
    if (this.ended) return Promise.reject(new RsoError('RSO_ERR_CAPTURE', 'The X display connection is closed.', `${name} after close`));
    return new Promise<T>((resolve, reject) => {
      const c = this.client;
      this.pending.add(reject);
      c.seq_num = c.seq_num === 65535 ? 0 : c.seq_num + 1;
      c.replies[c.seq_num] = [
        (buf, opt) => parse(buf, opt),
        (err: unknown, res?: unknown) => {
          this.pending.delete(reject);
          if (err) reject(new XProtocolError(name, err));
          else resolve(res as T);
          return true;
        },
      ];
      c.pack_stream.pack('a', [body]);
      c.pack_stream.flush();
    });
  }

  /** Sends a raw request that has no reply. */
  rawSend(body: Buffer): void {
    const c = this.client;
    c.seq_num = c.seq_num === 65535 ? 0 : c.seq_num + 1;
    c.pack_stream.pack('a', [body]);
    c.pack_stream.flush();
  }

  /** Loads an extension helper of the package ('damage', 'fixes'...). */
  ext<T>(name: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client.require(name, (err, ext) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(ext as T);
      });
    });
  }

  /** Returns QueryExtension's answer for an extension the package has no helper for. */
  queryExtension(name: string): Promise<{ present: boolean; majorOpcode: number; firstEvent: number; firstError: number }> {
    return this.req('QueryExtension', name);
  }

  allocId(): number {
    return this.client.AllocID();
  }

  /**
   * One round trip; rejects with the first asynchronous X error that arrived before its
   * reply, so `send(); await sync()` behaves like a checked request.
   */
  async sync(): Promise<void> {
    await this.req('GetInputFocus');
    const errs = this.asyncErrors;
    this.asyncErrors = [];
    if (errs.length > 0) throw new XProtocolError('request', errs[0]);
  }

  async atom(name: string): Promise<number> {
    const known = this.atoms.get(name);
    if (known !== undefined) return known;
    const id = await this.req<number>('InternAtom', false, name);
    this.atoms.set(name, id);
    return id;
  }

  /**
   * Reads a whole property (type AnyPropertyType). Returns null when the window has no such
   * property or the window is gone (BadWindow: windows die between listing and reading).
   */
  async property(wid: number, atom: number, maxLongs = 1 << 16): Promise<{ type: number; data: Buffer } | null> {
    try {
      const p = await this.req<{ type: number; data: Buffer }>('GetProperty', 0, wid, atom, 0, 0, maxLongs);
      return p.type === 0 ? null : p;
    } catch (e) {
      if (e instanceof XProtocolError) return null;
      throw e;
    }
  }

  /**
   * Called once if the connection ends without close(): the X server stopped or dropped us.
   * Nothing else would tell: a client that is idle has no request waiting to fail.
   */
  onLost(cb: (err: RsoError) => void): () => void {
    this.lostListeners.add(cb);
    return () => this.lostListeners.delete(cb);
  }

  onEvent(cb: (e: XEvent) => void): () => void {
    this.eventListeners.add(cb);
    return () => this.eventListeners.delete(cb);
  }

  /** Closes the connection; the server frees every resource the client still owns. */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.endWaiters.push(resolve);
      try {
        this.client.terminate();
      } catch {
        // terminate() only ends the socket; if that throws the socket is already gone.
        this.markEnded();
      }
      // The server closes its side once it has read our FIN; do not hang if it never does.
      setTimeout(() => this.markEnded(), 2000).unref();
    });
  }

  private markEnded(): void {
    if (this.ended && this.endWaiters.length === 0) return;
    this.ended = true;
    const lost = [...this.pending];
    this.pending.clear();
    for (const reject of lost) reject(new RsoError('RSO_ERR_NO_DISPLAY', 'The X display went away.', `connection to ${this.displayName} closed with a request pending`));
    const ws = this.endWaiters.splice(0);
    for (const w of ws) w();
    if (!this.closing) {
      this.closing = true;
      const err = new RsoError('RSO_ERR_NO_DISPLAY', `The X display ${this.displayName} went away (its X server stopped).`, `connection to ${this.displayName} lost`);
      for (const l of [...this.lostListeners]) l(err);
    }
    this.lostListeners.clear();
  }
}

/**
 * The server numbers requests modulo 2^16 and files each reply under that number. The package
 * wraps the counter for its core requests, but its extension helpers (DAMAGE Subtract, XFixes
 * FetchRegion...) only do `seq_num++`: once one of them crosses 65535, every later reply is
 * looked up under a number the server never sends back and every request waits forever. At
 * a hundred or more requests a second while a screen is busy, that froze the picture after
 * some ten minutes. Wrapping on every assignment makes all paths count as the server does.
 */
function wrapSequence(client: RawClient): void {
  let seq = client.seq_num & 0xffff;
  Object.defineProperty(client, 'seq_num', {
    get: () => seq,
    set: (v: number) => {
      seq = v & 0xffff;
    },
    configurable: true,
  });
}

/**
 * The package reads fixed-size blocks (every reply body) one byte per call, which costs tens
 * of milliseconds for a full-screen GetImage reply. This replaces `get` on our own connection
 * with a reader that copies whole chunks; the wire format and callbacks are unchanged.
 */
function fastFixedReads(ps: RawPackStream): void {
  ps.get = function (length: number, cb: (buf: Buffer) => void): void {
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    this.read_queue.push({
      execute(s: RawPackStream): boolean {
        while (filled < length) {
          const head = s.readlist[0];
          if (!head) return false;
          const avail = head.length - s.offset;
          const n = Math.min(avail, length - filled);
          head.copy(out, filled, s.offset, s.offset + n);
          filled += n;
          s.length -= n;
          if (n === avail) {
            s.readlist.shift();
            s.offset = 0;
          } else {
            s.offset += n;
          }
        }
        cb(out);
        return true;
      },
    });
    this.resume();
  };
}
