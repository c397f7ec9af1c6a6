// The frame encoder off the daemon's main thread. Packing and deflating a full screen takes
// 30-100 ms; on the main thread that is time the customer's panel, the F12 handler, input
// injection and the heartbeats wait. A worker thread (encoder-worker.ts) owns the FramePipeline;
// this side posts the grabs (copied and transferred) and gets the encoded updates back
// (transferred). Requests are answered in order, one at a time.
//
// Because encoding is now asynchronous, something may happen while a batch is being encoded:
// the agent's model is reset (a resume, a dropped held batch), or the choice changes. `epoch`
// counts resets so the caller can tell that the batch it gets back was encoded against a model
// that no longer holds (session.ts then throws it away and resets again).
import { Worker } from 'node:worker_threads';
import { RsoError, type ErrorCode } from '../errors.js';
import type { Rect } from '../codec/framebuffer.js';
import type { MaskedGrab } from './frame-pipeline.js';
import type { Size } from './frames.js';

/** What the session sends of an encoded change. */
export interface SentBatch {
  /** Encoded updates (src/codec/update.ts), seq numbered from the batch's first seq. */
  updates: Uint8Array[];
  lastSeq: number;
  /** Number of tiles, and how many of each encoding (solid, packed, copy), for logs and benches. */
  tiles: number;
  kinds: Record<string, number>;
}

export type EncoderRequest =
  | { type: 'encode'; id: number; grabs: MaskedGrab[]; out: Size; changed: readonly Rect[] | 'full'; seq: number }
  | { type: 'reset' };

export type EncoderReply = { id: number; batch: SentBatch | null } | { id: number; error: { code: ErrorCode; detail: string } };

/** The encoder was closed while a request waited: not an error of the session. */
export class EncoderClosedError extends Error {
  override readonly name = 'EncoderClosedError';
}

/**
 * The worker. Built: dist/daemon/encoder-worker.js. From source (tests and benches run under
 * tsx), a worker does not get tsx's loader by itself: a two-line bootstrap registers it in the
 * worker, then imports the .ts file.
 */
function startWorker(size: Size): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./encoder-worker.js', import.meta.url), { workerData: size });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./encoder-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData: size });
}

export class FrameEncoder {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: SentBatch | null) => void; reject: (e: Error) => void }>();
  private closed = false;
  private broken: RsoError | null = null;
  /** Counts resetAgent calls; see the file comment. */
  epoch = 0;

  constructor(size: Size) {
    this.worker = startWorker(size);
    // Idle, it is never what keeps the process alive (an exit must not wait for it); while a
    // request waits, it is (settle() below).
    this.worker.unref();
    this.worker.on('message', (m: EncoderReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.settle();
      if ('error' in m) p.reject(new RsoError(m.error.code, undefined, m.error.detail));
      else p.resolve(m.batch);
    });
    this.worker.on('error', (err) => this.fail(new RsoError('RSO_ERR_INTERNAL', undefined, `encoder thread: ${err.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new RsoError('RSO_ERR_INTERNAL', undefined, `encoder thread exited with ${code}`));
    });
  }

  /** Forget what the agent has: the next encode sends every tile as a reset update. */
  resetAgent(): void {
    this.epoch++;
    if (!this.closed && !this.broken) this.worker.postMessage({ type: 'reset' } satisfies EncoderRequest);
  }

  /**
   * Brings the encoder's screen up to date with `grabs` and encodes what differs from the
   * agent's picture for `changed` (FramePipeline.encode). Null when nothing differs. Rejects with
   * the encoder's RsoError, or EncoderClosedError after close().
   */
  encode(grabs: readonly MaskedGrab[], out: Size, changed: readonly Rect[] | 'full', seq: number): Promise<SentBatch | null> {
    if (this.closed) return Promise.reject(new EncoderClosedError('the encoder is closed'));
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    // Copies: a grab may be a view of a buffer the X connection reuses; a copy of our own can be
    // handed over (transferred) without a second one.
    // new Uint8Array(view) copies, also for a Buffer (whose slice() would only make a view).
    const sent = grabs.map((g) => ({ format: g.format, width: g.width, height: g.height, x: g.x, y: g.y, data: new Uint8Array(g.data) }));
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const req: EncoderRequest = { type: 'encode', id, grabs: sent, out, changed, seq };
      this.worker.postMessage(req, sent.map((g) => g.data.buffer as ArrayBuffer));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new EncoderClosedError('the encoder was closed'));
    this.pending.clear();
    await this.worker.terminate();
  }

  private settle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(err: RsoError): void {
    if (this.broken || this.closed) return;
    this.broken = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
