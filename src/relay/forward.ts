// The peer plane: binary frames from one socket of a pair are sent on, unchanged and in order,
// to the other, with backpressure. Above the high-water mark of bytes queued towards a socket,
// its peer stops being read (TCP then slows the sender down); below the low one it is read
// again. At most one frame arrives after the pause, so a direction holds about 3 frames at
// worst, whatever the sender does.
import { WebSocket } from 'ws';
import type { RelayMetrics } from './metrics.js';

/** What forwarding keeps about one socket; the server's own record of a socket extends it. */
export interface End {
  readonly ws: WebSocket;
  peer: End | null;
  /** Bytes handed to ws.send towards this socket and not yet written to the kernel. */
  queued: number;
  /** This socket's reading is paused because its peer's queue is full. */
  paused: boolean;
  /** Binary bytes this socket sent that were forwarded. */
  sent: number;
  closing: boolean;
}

// One options object for every frame: ws copies it, so sharing it costs nothing per frame.
const BINARY = { binary: true } as const;

export class Forwarder {
  /**
   * `maxFrameBytes`: the largest binary frame the relay accepts; the marks are 2 and 1 frames.
   * `metrics`: when given, every frame's size and time from arrival to the kernel are counted.
   */
  constructor(
    maxFrameBytes: number,
    private readonly metrics?: RelayMetrics,
  ) {
    this.highWater = 2 * maxFrameBytes;
    this.lowWater = maxFrameBytes;
  }

  private readonly highWater: number;
  private readonly lowWater: number;

  link(a: End, b: End): void {
    a.peer = b;
    b.peer = a;
  }

  /** Both sides stop forwarding to each other; a side paused for its peer is read again. */
  unlink(end: End): void {
    const peer = end.peer;
    if (!peer) return;
    end.peer = null;
    peer.peer = null;
    for (const side of [end, peer]) {
      if (side.paused) {
        side.paused = false;
        if (!side.closing) side.ws.resume();
      }
    }
  }

  /** Forward one binary frame; pause the source while the destination's queue is full. */
  forward(src: End, dst: End, data: Buffer): void {
    if (dst.ws.readyState !== WebSocket.OPEN) return;
    const size = data.length;
    const metrics = this.metrics;
    const started = metrics ? performance.now() : 0;
    src.sent += size;
    dst.queued += size;
    dst.ws.send(data, BINARY, () => {
      dst.queued -= size;
      if (metrics) metrics.forwarded(size, (performance.now() - started) / 1000);
      if (src.paused && dst.queued <= this.lowWater && src.peer === dst) {
        src.paused = false;
        if (!src.closing) src.ws.resume();
      }
    });
    if (dst.queued > this.highWater && !src.paused) {
      src.paused = true;
      src.ws.pause();
    }
  }
}
